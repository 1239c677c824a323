import io
import itertools
import re

from restaurants.management.commands._progress import INTERVAL_SECONDS, Progress


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _reports(stream: io.StringIO) -> list[tuple[int, int]]:
    """(items done, seconds) of each progress line."""
    lines = stream.getvalue().splitlines()
    return [(int(m[1].replace(",", "")), int(m[2])) for m in (re.match(r"\s+([\d,]+) .*\((\d+) s", ln) for ln in lines)]


def test_a_slow_load_says_how_far_it_is_at_least_every_interval_and_at_the_end():
    clock, stream = FakeClock(), io.StringIO()
    progress = Progress(total=22_240, verbosity=1, stream=stream, clock=clock)
    while progress.done < 22_240:  # one batch of 25 a second: a tenth of the way takes 89 s
        clock.now += 1
        progress.update(min(25, 22_240 - progress.done))
    reports = _reports(stream)
    seconds = [0] + [at for _, at in reports]
    assert max(later - earlier for earlier, later in itertools.pairwise(seconds)) <= INTERVAL_SECONDS
    assert reports[-1][0] == 22_240 and "22,240 of 22,240 items" in stream.getvalue().splitlines()[-1]


def test_a_fast_load_prints_about_ten_lines():
    clock, stream = FakeClock(), io.StringIO()
    progress = Progress(total=22_240, verbosity=1, stream=stream, clock=clock)
    for _ in range(22_240 // 25 + 1):
        clock.now += 0.001
        progress.update(min(25, 22_240 - progress.done))
    assert 10 <= len(_reports(stream)) <= 11


def test_verbosity_zero_prints_nothing():
    stream = io.StringIO()
    progress = Progress(total=100, verbosity=0, stream=stream, clock=FakeClock())
    progress.update(100)
    assert stream.getvalue() == ""
