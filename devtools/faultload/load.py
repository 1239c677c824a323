"""The bounded load: anonymous readers and logged-in writers, every answer kept.

Readers fetch restaurant and list pages as anonymous visitors (the page
cache's customers). Each writer is one user with their own session cookie:
they open the restaurant's page, post one review with the page's CSRF token,
then keep editing it through the edit form, as a person would. What matters
is what the site *told* them, so each write is filed by its answer:
confirmed (302 to the restaurant, or the 200 "Done" page shown when the
session could not be saved), refused (503) or unclear (anything else).

The edit form is filled from a consistent DynamoDB read, so each time a
writer opens it they see what is really stored: if that is the text of a
write they were told had failed, the site told them something untrue, and
that is recorded on the spot (a later edit would hide it from the final check).
"""

import html
import http.client
import random
import re
import secrets
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

from devtools.bench.web import BenchError, Response, WebServer

from .record import Log, excerpt
from .services import WRITER_PASSWORD, FaultLoadError

MAX_REQUESTS_PER_THREAD = 5000  # a bound on count as well as on time
_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
_TEXTAREA = re.compile(r'<textarea[^>]*name="review"[^>]*>(.*?)</textarea>', re.S)
_CONTINUE = re.compile(r'<a class="button" href="([^"]*)">Continue</a>')


@dataclass(frozen=True)
class Paths:
    """The URLs of one writer's restaurant and of their own reviews."""

    detail: str
    reviews: str
    create: str
    edit: str
    user: str

    @classmethod
    def of(cls, *, username: str, restaurant: str) -> "Paths":
        from django.urls import reverse  # once Django is set up: the runners call this after

        return cls(
            detail=reverse("restaurants:detail", args=[restaurant]),
            reviews=reverse("restaurants:reviews", args=[restaurant]),
            create=reverse("restaurants:review_create", args=[restaurant]),
            edit=reverse("restaurants:review_edit", args=[restaurant]),
            user=reverse("restaurants:user", args=[username]),
        )


@dataclass
class Write:
    number: int
    kind: str  # post or edit
    text: str
    rating: int
    at: float
    outcome: str  # confirmed, refused, already (site said "already reviewed"), unclear
    detail: str
    applied: str = ""  # for an unclear write, what the next edit form showed


@dataclass
class Writer:
    site: WebServer
    log: Log
    username: str
    restaurant: str
    paths: Paths
    label: str
    think: float
    quiet_from: float | None = None  # stop writing then: later writes would refresh stale caches
    cookies: dict[str, str] = field(default_factory=dict)
    writes: list[Write] = field(default_factory=list)
    wrong: dict[int, str] = field(default_factory=dict)  # refused write number -> evidence
    notes: list[str] = field(default_factory=list)  # what a person would have noticed
    posted: bool = False

    def log_in(self) -> None:
        self.cookies = self.site.log_in(self.username, WRITER_PASSWORD)

    def run(self, stop: threading.Event) -> None:
        for _ in range(MAX_REQUESTS_PER_THREAD):
            if stop.is_set():
                return
            if self.quiet_from is not None and self.log.now() >= self.quiet_from:
                return
            try:
                if self.posted:
                    self._edit()
                else:
                    self._post()
            except Exception as error:  # a bug here must show in the report, not kill the thread quietly
                self.notes.append(f"{self.log.now():.1f}s writer crashed: {error!r}")
                return
            stop.wait(self.think)

    def last_confirmed(self) -> Write | None:
        return next((write for write in reversed(self.writes) if write.outcome == "confirmed"), None)

    def _get(self, path: str) -> Response | None:
        response = self.log.call(self.site, "writer", "GET", path, cookies=self.cookies)
        if response is not None:
            self._keep_cookies(response)
            if response.status == 302 and "/accounts/login/" in response.headers.get("Location", ""):
                self._logged_out(f"GET {path}")
                return None
        return response

    def _post(self) -> None:
        page = self._get(self.paths.detail)
        if page is None or page.status != 200:
            return
        if b">Log out</button>" not in page.body:  # an anonymous page: the session is gone
            self._logged_out(f"GET {self.paths.detail}")
            return
        if b'name="review"' not in page.body:  # the page says they reviewed it already
            self.notes.append(f"{self.log.now():.1f}s own page shows a review before any post was confirmed")
            self.posted = True
            return
        self._write("post", self.paths.create, page)

    def _edit(self) -> None:
        page = self._get(self.paths.edit)
        if page is None:
            return
        if page.status == 404:
            self.notes.append(f"{self.log.now():.1f}s edit page says there is no review: {excerpt(page.body)}")
            self.posted = False
            return
        if page.status != 200:
            return
        shown = _TEXTAREA.search(page.body.decode(errors="replace"))
        if shown:
            self._saw(html.unescape(shown.group(1)).strip())
        self._write("edit", self.paths.edit, page)

    def _write(self, kind: str, path: str, form_page: Response) -> None:
        token = _CSRF.search(form_page.body.decode(errors="replace"))
        if token is None:
            self.notes.append(f"{self.log.now():.1f}s no CSRF token on {form_page.status} form page")
            return
        number = len(self.writes) + 1
        text, rating = f"{self.label} {kind} {number} {secrets.token_hex(3)}", number % 5 + 1
        form = {"rating": rating, "review": text, "csrfmiddlewaretoken": token.group(1)}
        at = self.log.now()
        response = self.log.call(self.site, "writer", "POST", path, cookies=self.cookies, form=form)
        outcome, detail, follow = self._classify(response, text)
        self.writes.append(Write(number, kind, text, rating, at, outcome, detail))
        if outcome in ("confirmed", "already"):
            self.posted = True
        if follow:
            self._get(follow)  # the page a browser shows next (and where the message is read)

    def _classify(self, response: Response | None, text: str) -> tuple[str, str, str | None]:
        if response is None:
            return "unclear", "no answer", None
        self._keep_cookies(response)
        location = response.headers.get("Location", "")
        if response.status == 302 and location == self.paths.detail:
            return "confirmed", "302 to the restaurant", location
        if response.status == 302 and location == self.paths.edit:
            return "already", "302 to the edit form: already reviewed", None
        if response.status == 302 and "/accounts/login/" in location:
            self._logged_out("POST")
            return "unclear", "302 to the login page", None
        body = response.body.decode(errors="replace")
        if response.status == 200 and "<h1>Done</h1>" in body:
            onward = _CONTINUE.search(body)
            return "confirmed", "200 Done page", html.unescape(onward.group(1)) if onward else None
        if response.status == 503:
            kept = html.escape(text) in body
            return "refused", "503, text kept" if kept else f"503, text NOT kept: {excerpt(response.body)}", None
        return "unclear", f"{response.status}: {excerpt(response.body)}", None

    def _saw(self, shown: str) -> None:
        """What the edit form shows is what DynamoDB holds now."""
        match = next((write for write in self.writes if write.text == shown), None)
        if match is not None and match.outcome == "refused" and match.number not in self.wrong:
            self.wrong[match.number] = (
                f"{self.username}: write {match.number} ({match.kind} at {match.at:.1f}s) was answered "
                f"'{match.detail}', yet at {self.log.now():.1f}s the edit form showed its text {shown!r}"
            )
        for write in self.writes:  # what became of writes the site gave no clear answer about
            if write.outcome != "unclear" or write.applied:
                continue
            if write is match:
                write.applied = f"applied (edit form at {self.log.now():.1f}s)"
            elif match is not None and match.number < write.number:
                write.applied = f"not applied (edit form at {self.log.now():.1f}s)"
        confirmed = self.last_confirmed()
        if confirmed and (match is None or match.number < confirmed.number):
            self.notes.append(
                f"{self.log.now():.1f}s edit form shows {shown!r}, older than confirmed write {confirmed.number}"
            )

    def _keep_cookies(self, response: Response) -> None:
        for name, value in response.cookies.items():
            if value:
                self.cookies[name] = value
            else:
                self.cookies.pop(name, None)

    def _logged_out(self, where: str) -> None:
        """A person sent to the login page logs in again; the run notes it."""
        self.notes.append(f"{self.log.now():.1f}s {where} sent to the login page (logged out)")
        try:
            self.log_in()
        except (BenchError, OSError, http.client.HTTPException) as error:
            self.notes.append(f"{self.log.now():.1f}s logging in again failed: {error}")


def read(site: WebServer, log: Log, paths: list[str], stop: threading.Event, think: float, seed: int) -> None:
    """An anonymous visitor going from page to page until told to stop."""
    chooser = random.Random(seed)
    for _ in range(MAX_REQUESTS_PER_THREAD):
        if stop.is_set():
            return
        log.call(site, "anonymous", "GET", chooser.choice(paths))
        stop.wait(think)


@contextmanager
def running(site: WebServer, log: Log, writers: list[Writer], paths: list[str], *, readers: int, think: float):
    """Readers and writers run while the block runs; all are stopped and joined after it."""
    stop = threading.Event()
    threads = [threading.Thread(target=writer.run, args=(stop,), daemon=True) for writer in writers]
    threads += [
        threading.Thread(target=read, args=(site, log, paths, stop, think, number), daemon=True)
        for number in range(readers)
    ]
    for thread in threads:
        thread.start()
    try:
        yield
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=35)


def sleep_until(log: Log, at: float) -> None:
    time.sleep(max(0.0, at - log.now()))


def log_in_all(writers: list[Writer], attempts: int = 4) -> None:
    """All at once (each login hashes a password: most of a second of CPU). A
    refused login is tried again, as a person would, and noted for the report."""
    failures = []

    def one(writer: Writer) -> None:
        for attempt in range(1, attempts + 1):
            try:
                writer.log_in()
                return
            except Exception as error:  # noted with the writer's name, and tried again
                writer.notes.append(f"before the load: login attempt {attempt} failed: {error}")
                time.sleep(1)
        failures.append(writer.username)

    threads = [threading.Thread(target=one, args=(writer,)) for writer in writers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    if failures:
        raise FaultLoadError(f"logging in failed {attempts} times for {', '.join(failures)}")
