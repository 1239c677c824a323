"""A progress line for the data commands, on stderr so piped output stays clean.

Bulk loads of the demo table take tens of seconds; an operator wants to see
they move. One line every tenth of the way is enough, and needs no library.
"""

import sys


class Progress:
    def __init__(self, *, total: int | None, verbosity: int, unit: str = "items", stream=None) -> None:
        self.total = total
        self.done = 0
        self.unit = unit
        self.enabled = verbosity > 0
        self.stream = stream or sys.stderr
        self._next_report = self._step()

    def _step(self) -> int:
        return max(1, (self.total or 10_000) // 10)

    def update(self, count: int) -> None:
        self.done += count
        if self.enabled and self.done >= self._next_report:
            of = f" of {self.total:,}" if self.total else ""
            self.stream.write(f"  {self.done:,}{of} {self.unit}\n")
            self.stream.flush()
            self._next_report = self.done + self._step()
