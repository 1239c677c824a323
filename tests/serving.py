"""Waiting for a server a test started itself (gunicorn, ``make run``) to answer.

One helper for what several tests did by hand: poll a URL until it answers
200, and fail at once, with the server's log, if the process exits instead
of waiting out the timeout for a server that is gone.
"""

import subprocess
import urllib.request
from pathlib import Path

from restaurants.waiting import wait_until


def first_answer(process: subprocess.Popen, url: str, *, log: Path, timeout: float, every: float) -> bytes:
    """The body of ``url``'s first 200; refused connections and errors (an
    HTTPError is an OSError too) mean "not yet"."""

    def answer() -> list[bytes] | None:  # a list: true even for an empty body
        assert process.poll() is None, log.read_text(errors="replace")
        with urllib.request.urlopen(url, timeout=5) as response:
            return [response.read()] if response.status == 200 else None

    (body,) = wait_until(
        answer,
        timeout=timeout,
        every=every,
        what=lambda: f"{url} to answer 200:\n{log.read_text(errors='replace')}",
        ignoring=(OSError,),
    )
    return body
