"""A progress line for the data commands, on stderr so piped output stays clean.

Bulk loads of the demo table take tens of seconds on a laptop and minutes on
a busy 2-core machine; an operator wants to see they move. A line every tenth
of the way, and at least every ``INTERVAL_SECONDS`` (a first ``make run``
must never look stuck), with the rate so far; needs no library.
"""

import sys
import time

INTERVAL_SECONDS = 4.0  # under make run's 5 s of silence at most, with a batch's time to spare


class Progress:
    def __init__(
        self, *, total: int | None, verbosity: int, unit: str = "items", stream=None, clock=time.monotonic
    ) -> None:
        self.total = total
        self.done = 0
        self.unit = unit
        self.enabled = verbosity > 0
        self.stream = stream or sys.stderr
        self._clock = clock
        self._started = self._last_report = clock()
        self._next_report = self._step()

    def _step(self) -> int:
        return max(1, (self.total or 10_000) // 10)

    def update(self, count: int) -> None:
        self.done += count
        if not self.enabled:
            return
        now = self._clock()
        finished = self.total is not None and self.done >= self.total
        if self.done >= self._next_report or now - self._last_report >= INTERVAL_SECONDS or finished:
            of = f" of {self.total:,}" if self.total else ""
            elapsed = now - self._started
            rate = f", {self.done / elapsed:,.0f}/s" if elapsed > 0 else ""
            self.stream.write(f"  {self.done:,}{of} {self.unit} ({elapsed:.0f} s{rate})\n")
            self.stream.flush()
            self._last_report = now
            self._next_report = self.done + self._step()
