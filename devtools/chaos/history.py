"""What a chaos run recorded, on one clock: every answer (with the reviews
its page showed), every write and what its author was told, every outside
write and when a visitor first saw it, each fault's real start and end, and
what DynamoDB held at the end. The checker reads only this, so a history
saved as JSON lines can be checked again, and a unit test can hand-make one.
"""

import dataclasses
import html
import http.client
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from devtools.bench.web import Response, WebServer
from devtools.faultload.record import Log, excerpt

_REVIEW_TEXT = re.compile(r'<p class="review-text">(.*?)</p>', re.S)
OURS = ("chaos ", "outside ")  # the texts the run writes begin so
# The site's explaining 503s: the session store or DynamoDB did not answer,
# a review or login that could not be saved (restaurants/error_pages.py, views.py, accounts).
EXPLAINED = (
    "Our session store did not answer",
    "We could not reach our data store",
    "We could not save your review just now",
    "We could not sign you in just now",
    "Logging in is paused for a moment",
)


@dataclass(frozen=True)
class Seen:
    """One answer, as the visitor got it."""

    at: float
    who: str  # anonymous, writer, outside (an outside writer looking for its write), probe
    method: str
    path: str
    status: int  # 0: no answer
    cache: str
    seconds: float
    excerpt: str = ""
    shows: tuple[str, ...] = ()  # the run's own review texts on the page
    explained: bool = False  # a 503 that says why


@dataclass(frozen=True)
class WriteRecord:
    writer: str
    restaurant: str
    number: int
    kind: str
    text: str
    started: float
    done: float  # when the answer arrived
    outcome: str  # confirmed, refused, already, unclear
    detail: str


@dataclass(frozen=True)
class FaultRecord:
    index: int
    name: str
    planned_start: float  # load time
    planned_end: float
    started: float | None = None
    ended: float | None = None
    start_said: str = ""
    end_said: str = ""


@dataclass(frozen=True)
class OutsideWrite:
    restaurant: str
    path: str
    text: str
    done: float
    seen: float | None  # when an anonymous page first showed it


@dataclass(frozen=True)
class Stored:
    """What DynamoDB holds for one writer's restaurant at the end (consistent reads)."""

    writer: str
    restaurant: str
    text: str | None
    items: int  # review items of this writer listed under the restaurant
    reviews_listed: int  # review items listed under the restaurant
    review_count: int  # the restaurant's counters


@dataclass
class History:
    meta: dict = field(default_factory=dict)  # seed, schedule, phases (fault window end, load end)
    faults: list[FaultRecord] = field(default_factory=list)
    answers: list[Seen] = field(default_factory=list)
    writes: list[WriteRecord] = field(default_factory=list)
    outside: list[OutsideWrite] = field(default_factory=list)
    stored: list[Stored] = field(default_factory=list)
    pages: dict[str, str] = field(default_factory=dict)  # path -> writer whose review it shows
    untrue: list[str] = field(default_factory=list)  # refused writes seen applied during the load

    def save(self, path: Path) -> None:
        with path.open("w") as out:
            out.write(json.dumps({"record": "meta", **self.meta, "pages": self.pages, "untrue": self.untrue}) + "\n")
            for kind, rows in (
                ("fault", self.faults),
                ("answer", self.answers),
                ("write", self.writes),
                ("outside", self.outside),
                ("stored", self.stored),
            ):
                for row in rows:
                    out.write(json.dumps({"record": kind, **dataclasses.asdict(row)}) + "\n")

    @classmethod
    def load(cls, path: Path) -> "History":
        history = cls()
        types = {"fault": FaultRecord, "answer": Seen, "write": WriteRecord, "outside": OutsideWrite}
        types["stored"] = Stored
        lists = {"fault": history.faults, "answer": history.answers, "write": history.writes}
        lists |= {"outside": history.outside, "stored": history.stored}
        for line in path.read_text().splitlines():
            row = json.loads(line)
            kind = row.pop("record")
            if kind == "meta":
                history.pages, history.untrue = row.pop("pages"), row.pop("untrue")
                history.meta = row
                continue
            if kind == "answer":
                row["shows"] = tuple(row["shows"])
            lists[kind].append(types[kind](**row))
        return history


def shown_reviews(body: bytes) -> tuple[str, ...]:
    texts = (html.unescape(text).strip() for text in _REVIEW_TEXT.findall(body.decode(errors="replace")))
    return tuple(text for text in texts if text.startswith(OURS))


class ChaosLog(Log):
    """faultload's log (the writers call it), keeping what each page showed."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[Seen] = []

    def call(self, site: WebServer, who: str, method: str, path: str, **kwargs) -> Response | None:
        at = self.now()
        try:
            response = site.request(method, path, **kwargs)
        except (OSError, http.client.HTTPException) as error:
            self._keep(Seen(at, who, method, path, 0, "", self.now() - at, repr(error)[:180]))
            return None
        body = response.body.decode(errors="replace")
        explained = response.status == 503 and any(phrase in body for phrase in EXPLAINED)
        said = excerpt(response.body) if response.status >= 400 else ""
        cache = response.headers.get("X-Cache", "")
        shows = shown_reviews(response.body) if response.status == 200 and method == "GET" else ()
        self._keep(Seen(at, who, method, path, response.status, cache, self.now() - at, said, shows, explained))
        return response

    def _keep(self, seen: Seen) -> None:
        with self._lock:
            self.seen.append(seen)
