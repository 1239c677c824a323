"""var/chaos/report.md: the seed, the schedule, what each fault did and when,
the checker's counts and evidence, recovery times, and the shrunk schedule."""

from collections import Counter

from . import checker, schedule
from .history import History

MOST = 10


def render(args, planned: list[schedule.Planned], attempts) -> str:
    first = attempts[0]
    lines = [
        f"# make chaos: seed {args.seed}, {args.topology} topology",
        "",
        f"Schedule ({len(planned)} faults in a {args.window:g} s window after a {6:g} s warm-up): "
        f"{schedule.describe(planned)}.",
        f"Load: {args.readers} anonymous readers, {args.writers} logged-in writers (half stop when the window "
        f"ends), {args.outside} outside writers (boto3, lab-shaped reviews). Replay: "
        f"`make chaos SEED={args.seed} FAULTS={args.faults} WINDOW={args.window:g}"
        + (f" TOPOLOGY={args.topology}" if args.topology != "replica" else "")
        + (f" ONLY={','.join(args.names)}" if args.names else "")
        + "`.",
        "",
        "| run | faults | result | lost | untrue | stale after recovery | stale HITs | stale HITs in faults | 5xx "
        "| unanswered | hit ratio back after | follower lag back after | seconds |",
        "| --- " * 13 + "|",
    ]
    lines += [_row(attempt) for attempt in attempts]
    failing = [attempt for attempt in attempts if attempt.failed]
    if first.failed and failing:
        smallest = min(failing, key=lambda attempt: len(attempt.faults))
        lines += ["", f"**Smallest failing schedule** ({smallest.label}): {schedule.describe(smallest.faults)}."]
    elif not first.failed:
        lines += ["", "**Passed**: every check held."]
    for attempt in attempts:
        lines += ["", *_details(attempt)]
    return "\n".join(lines) + "\n"


def _recovery(recovery: checker.Recovery) -> str:
    return "never" if recovery.seconds is None else f"{recovery.seconds:.1f} s"


def _row(attempt) -> str:
    verdict = attempt.verdict
    names = ", ".join(f"#{fault.index} {fault.name}" for fault in attempt.faults) or "none"
    if verdict is None:
        return f"| {attempt.label} | {names} | DID NOT RUN: {attempt.error} |" + " |" * 10
    counts = [verdict.lost, verdict.untrue, verdict.stale_after_recovery, verdict.stale_hits]
    counts += [verdict.stale_hits_in_faults]
    counts += [verdict.server_errors, verdict.unanswered]
    cells = [attempt.label, names, "passed" if verdict.passed else "FAILED"]
    cells += [str(len(each)) for each in counts]
    cells += [_recovery(verdict.hit_ratio), _recovery(verdict.follower_lag), f"{attempt.seconds:.0f}"]
    return "| " + " | ".join(cells) + " |"


def _details(attempt) -> list[str]:
    lines = [f"## {attempt.label} ({attempt.folder})", ""]
    if attempt.verdict is None:
        return lines + [f"Did not run to the end: {attempt.error}"]
    history = History.load(attempt.folder / "history.jsonl")
    verdict = attempt.verdict
    lines.append(f"Faults (load seconds; the window starts at {history.meta['window_start']:g} s):")
    lines.append("")
    for fault in history.faults:
        started = "never" if fault.started is None else f"{fault.started:.1f}"
        ended = "-" if fault.ended is None else f"{fault.ended:.1f}"
        lines.append(f"- #{fault.index} {fault.name} {started}–{ended} s: {fault.start_said}; {fault.end_said}")
    outcomes = Counter(write.outcome for write in history.writes)
    statuses = Counter(seen.status for seen in history.answers)
    lines += [
        "",
        f"{len(history.answers)} answers ({', '.join(f'{n}×{s}' for s, n in sorted(statuses.items()))}); "
        f"writes: {', '.join(f'{n} {o}' for o, n in outcomes.most_common())}; "
        f"{len(history.outside)} outside writes; last fault ended at {verdict.faults_end:.1f} s, "
        f"load ended at {history.meta['load_end']:.1f} s.",
        f"- hit ratio: {_recovery(verdict.hit_ratio)} after the faults; {verdict.hit_ratio.detail}",
        f"- follower lag: {_recovery(verdict.follower_lag)} after the faults; {verdict.follower_lag.detail}",
        "",
    ]
    for title, items in (
        ("Lost reviews", verdict.lost),
        ("Untrue answers", verdict.untrue),
        ("Stale after recovery", verdict.stale_after_recovery),
        ("Stale HITs while no fault was active", verdict.stale_hits),
        ("Stale HITs during a fault", verdict.stale_hits_in_faults),
        ("5xx other than an explaining 503", verdict.server_errors),
        ("Unanswered requests", verdict.unanswered),
        ("What writers noticed", history.meta.get("notes", [])),
    ):
        if items:
            lines += [f"**{title}** ({len(items)}):", ""] + [f"- {item}" for item in items[:MOST]]
            lines += [f"- … and {len(items) - MOST} more"] if len(items) > MOST else []
            lines.append("")
    return lines
