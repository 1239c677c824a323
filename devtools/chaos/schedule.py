"""A seeded schedule of faults: which, when, for how long, and never two at
once on the same component.

Pure (no processes, no clock): the same seed, fault count and window give the
same schedule on any machine, which is what makes a failing seed a bug report.
Faults that share a resource (the Redis primary, the follower, the site's
processes...) never overlap, with a gap between them; faults on different
resources may, which is where the hand-written fault tests never looked.
"""

import random
from dataclasses import dataclass

GAP_SECONDS = 1.0  # between two faults on one resource: the heal must finish first
PLACEMENT_ATTEMPTS = 50


@dataclass(frozen=True)
class Kind:
    """What the schedule needs to know of a catalogue entry."""

    name: str
    resources: frozenset[str]
    shortest: float  # seconds from start to heal
    longest: float


@dataclass(frozen=True)
class Planned:
    """One fault of a schedule, in seconds from the start of the fault window."""

    index: int
    name: str
    start: float
    end: float

    def overlaps(self, other: "Planned") -> bool:
        return self.start < other.end + GAP_SECONDS and other.start < self.end + GAP_SECONDS


def plan(*, seed: int, kinds: list[Kind], count: int, window: float) -> list[Planned]:
    """``count`` faults (fewer if the window cannot hold them apart) placed
    in ``[0, window]``, ordered by start; ``index`` is the order of drawing,
    so a shrunk schedule's faults keep their names in the report."""
    chooser = random.Random(seed)
    by_name = {kind.name: kind for kind in kinds}
    placed: list[Planned] = []
    for index in range(count):
        for _ in range(PLACEMENT_ATTEMPTS):
            kind = chooser.choice(kinds)
            seconds = round(chooser.uniform(kind.shortest, kind.longest), 1)
            if seconds > window:
                continue
            start = round(chooser.uniform(0, window - seconds), 1)
            candidate = Planned(index, kind.name, start, round(start + seconds, 1))
            if not any(
                candidate.overlaps(other) and by_name[other.name].resources & kind.resources for other in placed
            ):
                placed.append(candidate)
                break
    return sorted(placed, key=lambda fault: (fault.start, fault.index))


def describe(schedule: list[Planned]) -> str:
    return ", ".join(f"#{fault.index} {fault.name} {fault.start:g}-{fault.end:g}s" for fault in schedule) or "none"
