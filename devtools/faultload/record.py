"""Every answer the load got, on one clock, with what a bad one said.

The report's 5xx counts and evidence come from here: status, URL, who asked
(an anonymous reader or a writer), X-Cache, how long it took, and for an
error the words of the page, so an anomaly can be fixed from the report.
"""

import html
import http.client
import re
import threading
import time
from dataclasses import dataclass

from devtools.bench.web import Response, WebServer

_TAGS = re.compile(r"<[^>]+>")


def excerpt(body: bytes, limit: int = 180) -> str:
    """The words of a page's message: the error panel or form errors if any."""
    text = body.decode(errors="replace")
    for marker in ('class="panel error-panel"', 'class="form-errors"', "<main"):
        if marker in text:
            text = text[text.rfind("<", 0, text.index(marker)) :]
            break
    words = " ".join(html.unescape(_TAGS.sub(" ", text)).split())
    return words[:limit]


@dataclass(frozen=True)
class Answer:
    at: float  # seconds since the load started
    who: str
    method: str
    path: str
    status: int  # 0: no answer at all (refused, reset, timed out)
    cache: str  # X-Cache
    excerpt: str  # what a 5xx or an unexpected answer said
    seconds: float  # how long the answer took


class Log:
    """Every answer of one scenario, from every thread, on one clock."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.answers: list[Answer] = []
        self._lock = threading.Lock()

    def now(self) -> float:
        return time.monotonic() - self.started

    def call(self, site: WebServer, who: str, method: str, path: str, **kwargs) -> Response | None:
        at = self.now()
        try:
            response = site.request(method, path, **kwargs)
        except (OSError, http.client.HTTPException) as error:
            self._add(Answer(at, who, method, path, 0, "", repr(error)[:180], self.now() - at))
            return None
        unexpected = response.status >= 500 or response.status in (400, 403, 404, 409)
        said = excerpt(response.body) if unexpected else ""
        cache = response.headers.get("X-Cache", "")
        self._add(Answer(at, who, method, path, response.status, cache, said, self.now() - at))
        return response

    def _add(self, answer: Answer) -> None:
        with self._lock:
            self.answers.append(answer)
