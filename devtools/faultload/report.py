"""The Markdown report: one table row per fault, then the evidence behind each number.

The table answers the issue's question at a glance; the evidence (which URL
answered what, what the page said, the site's own log lines) is what a
developer needs to fix an anomaly without running the load again.
"""

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .faults import Fault
from .load import Writer
from .record import Answer

COLUMNS = [
    "fault",
    "requests",
    "5xx",
    "logged-in 503s: session unreadable",
    "confirmed writes",
    "refused writes",
    "unclear writes",
    "reviews lost",
    "wrong answers",
    "stale pages after recovery",
    "seconds",
]
SESSION_DOWN_WORDS = "cannot tell who you are"
_GUNICORN_NOISE = re.compile(r"\[INFO\] (Starting gunicorn|Listening at|Using worker|Booting worker|Handling signal)")
_NUMBERS = re.compile(r"\b\d+(\.\d+)?\b|0x[0-9a-f]+")


@dataclass
class Outcome:
    fault: Fault
    seconds: float = 0.0
    timeline: list[str] = field(default_factory=list)
    answers: list[Answer] = field(default_factory=list)
    writers: list[Writer] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)
    sessions_lost: list[str] = field(default_factory=list)  # writers logged out after recovery
    server_log: Path | None = None
    error: str | None = None  # the scenario could not run to the end

    def writes(self, outcome: str) -> int:
        return sum(write.outcome == outcome for writer in self.writers for write in writer.writes)

    @property
    def server_errors(self) -> list[Answer]:
        return [answer for answer in self.answers if answer.status >= 500]

    @property
    def sessions_unreadable(self) -> int:
        """Writers' 503s saying their session could not be read (error_pages.SESSION_DOWN)."""
        return sum(
            answer.who == "writer" and answer.status == 503 and SESSION_DOWN_WORDS in answer.excerpt
            for answer in self.answers
        )


def render(outcomes: list[Outcome], setup: str) -> str:
    lines = ["# Tastebook under Redis faults", "", setup, "", "| " + " | ".join(COLUMNS) + " |"]
    lines.append("| --- " * len(COLUMNS) + "|")
    for outcome in outcomes:
        lines.append("| " + " | ".join(_row(outcome)) + " |")
    lines += ["", _LEGEND, ""]
    for outcome in outcomes:
        lines += _details(outcome)
    return "\n".join(lines) + "\n"


_LEGEND = (
    "*Confirmed*: 302 to the restaurant, or the 200 “Done” page. *Refused*: 503. *Unclear*: anything "
    "else (no answer, 500, sent to log in). *Reviews lost*: confirmed writes DynamoDB does not hold. "
    "*Wrong answers*: refused writes DynamoDB holds. *Stale pages*: pages that, after recovery, do not "
    "show what DynamoDB holds (4 per writer). Half the writers stop writing at the fault, so their pages "
    "rely on the fault handling alone, not on a later write. 5xx counts every status ≥ 500, 503 included; "
    "*session unreadable*: those of them that told a logged-in writer their session could not be read. "
    "*Seconds*: the fault's wall time, from starting its Redis to the end of the checks."
)


def _row(outcome: Outcome) -> list[str]:
    statuses = Counter(answer.status for answer in outcome.server_errors)
    errors = str(sum(statuses.values()))
    if statuses:
        errors += " (" + ", ".join(f"{count}×{status}" for status, count in sorted(statuses.items())) + ")"
    no_answer = sum(answer.status == 0 for answer in outcome.answers)
    if no_answer:
        errors += f" + {no_answer} unanswered"
    title = f"({outcome.fault.key}) {outcome.fault.title}" + (" — DID NOT COMPLETE" if outcome.error else "")
    return [
        title,
        str(len(outcome.answers)),
        errors,
        str(outcome.sessions_unreadable),
        str(outcome.writes("confirmed")),
        str(outcome.writes("refused")),
        str(outcome.writes("unclear")),
        str(len(outcome.lost)),
        str(len(outcome.wrong)),
        str(len(outcome.stale)),
        f"{outcome.seconds:.0f}",
    ]


def _details(outcome: Outcome) -> list[str]:
    lines = [f"## ({outcome.fault.key}) {outcome.fault.title}", ""]
    if outcome.error:
        lines += [f"**Did not complete:** {outcome.error}", ""]
    lines += [f"- {step}" for step in outcome.timeline] + [_speed(outcome.answers), ""]
    lines += _section("Reviews lost", outcome.lost)
    lines += _section("Wrong answers", outcome.wrong)
    lines += _section("Stale pages after recovery", outcome.stale)
    lines += _section("Sessions lost (writers logged out after recovery; own page not checked)", outcome.sessions_lost)
    lines += _section("5xx and unanswered requests, by status and URL", _grouped_errors(outcome.answers))
    lines += _section("Writes not confirmed", _unconfirmed(outcome.writers))
    notes = [f"{writer.username}: {note}" for writer in outcome.writers for note in writer.notes]
    lines += _section("What writers noticed", notes)
    lines += _section(f"Server log ({outcome.server_log}), repeated lines counted", _log_digest(outcome.server_log))
    lines += _section("Tracebacks in the server log (project frames only), grouped", _tracebacks(outcome.server_log))
    return lines


def _speed(answers: list[Answer]) -> str:
    if not answers:
        return "- no answers"
    times = sorted(answer.seconds for answer in answers)
    slowest = max(answers, key=lambda answer: answer.seconds)
    readers = sum(answer.who == "anonymous" for answer in answers)
    return (
        f"- {readers} anonymous and {len(answers) - readers} writer requests; "
        f"median {times[len(times) // 2] * 1000:.0f} ms, slowest {slowest.seconds:.1f} s "
        f"({slowest.method} {slowest.path} at {slowest.at:.1f}s, {slowest.status})"
    )


def _section(title: str, items: list[str], most: int = 12) -> list[str]:
    if not items:
        return []
    lines = [f"**{title}** ({len(items)}):", ""] + [f"- {item}" for item in items[:most]]
    if len(items) > most:
        lines.append(f"- … and {len(items) - most} more")
    return lines + [""]


def _grouped_errors(answers: list[Answer]) -> list[str]:
    groups: dict[tuple, list[Answer]] = {}
    for answer in answers:
        if answer.status >= 500 or answer.status == 0:
            groups.setdefault((answer.status, answer.method, answer.who, answer.path), []).append(answer)
    rows = []
    for (status, method, who, path), seen in sorted(groups.items(), key=lambda item: -len(item[1])):
        times = f"{seen[0].at:.1f}-{seen[-1].at:.1f}s"
        rows.append(f"{len(seen)}× {status or 'no answer'} {method} {path} ({who}, {times}): “{seen[0].excerpt}”")
    return rows


def _unconfirmed(writers: list[Writer]) -> list[str]:
    return [
        f"{writer.username} {write.kind} {write.number} at {write.at:.1f}s: {write.outcome}, {write.detail}"
        + (f"; {write.applied}" if write.applied else "")
        for writer in writers
        for write in writer.writes
        if write.outcome != "confirmed"
    ]


def _log_digest(path: Path | None) -> list[str]:
    """Django's warnings and errors, and gunicorn's, with numbers masked to group them."""
    if path is None or not path.exists():
        return []
    counted: Counter[str] = Counter()
    samples: dict[str, list[str]] = {}
    for line in path.read_text(errors="replace").splitlines():
        if not line.strip() or _GUNICORN_NOISE.search(line) or line.startswith(" "):
            continue
        shape = _NUMBERS.sub("#", line)
        counted[shape] += 1
        seen = samples.setdefault(shape, [line, line])
        seen[1] = line
    rows = []
    for shape, count in counted.most_common():
        first, last = samples[shape]
        rows.append(f"{count}× `{first[:300]}`" + (f" … last: `{last[:300]}`" if last != first else ""))
    return rows


_HEADER = re.compile(r"^(Internal Server Error: .*|.*\[ERROR\] Error handling request .*)$")
_FRAME = re.compile(r'^  File "(?P<file>[^"]+)", line (?P<line>\d+), in (?P<name>.+)$')
_RAISED = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Interrupt)\b")
_BETWEEN = (" ", "Traceback", "During handling", "The above")


def _tracebacks(path: Path | None) -> list[str]:
    """Each distinct traceback once: how often, the first request that had
    it, the project's own frames and the exceptions raised."""
    if path is None or not path.exists():
        return []
    root = str(Path(__file__).resolve().parents[2]) + "/"
    seen: Counter[tuple] = Counter()
    first: dict[tuple, str] = {}
    header, trail = None, []
    for line in [*path.read_text(errors="replace").splitlines(), "(end)"]:
        if header is not None:
            frame = _FRAME.match(line)
            if frame:
                if frame["file"].startswith(root) and "/.venv/" not in frame["file"]:
                    trail.append(f"{frame['file'][len(root) :]}:{frame['line']} {frame['name']}")
                continue
            if not line.strip() or line.startswith(_BETWEEN):
                continue
            if _RAISED.match(line):
                trail.append(line[:200])
                continue
            seen[tuple(trail)] += 1
            first.setdefault(tuple(trail), header)
            header = None
        if _HEADER.match(line):
            header, trail = line, []
    return [
        f"{count}× first at `{first[key][:160]}`: " + " → ".join(f"`{item}`" for item in key)
        for key, count in seen.most_common()
    ]
