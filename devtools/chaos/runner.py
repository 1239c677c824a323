"""``make chaos``: plan a seeded schedule, run it, check it, shrink a failure.

Each run is a child process (``attempt``) with services of its own; this
process only plans, checks the history it leaves (``checker``) and writes
the report. On a failure the schedule is shrunk: run again without one fault
at a time, keep the smaller schedule whenever it still fails, until no
single fault can go or the reruns run out; the report names the smallest
failing schedule (timing jitter aside, a rerun may pass where a race was lost).
"""

import argparse
import json
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from . import checker, report, schedule
from .catalogue import CATALOGUE, kinds, names_for
from .history import History
from .world import TOPOLOGIES

BASE_DIR = Path(__file__).resolve().parents[2]
OUTPUT_DIR = BASE_DIR / "var" / "chaos"
ATTEMPT_TIMEOUT_SECONDS = 600


@dataclass
class Attempt:
    label: str
    faults: list[schedule.Planned]
    folder: Path
    verdict: checker.Verdict | None
    seconds: float
    error: str = ""

    @property
    def failed(self) -> bool:
        return self.verdict is None or not self.verdict.passed


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m devtools.chaos", description=__doc__)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--faults", type=int, default=6, help="faults in the schedule (default 6)")
    parser.add_argument("--window", type=float, default=30.0, help="seconds the faults are placed in (default 30)")
    parser.add_argument(
        "--topology",
        choices=TOPOLOGIES,
        default="replica",
        help="Redis: a primary and its read replica behind proxies (default), or a 3+3 node Redis Cluster",
    )
    parser.add_argument(
        "--only", default="", help="comma-separated catalogue names to draw from (default: all of the topology's)"
    )
    parser.add_argument("--readers", type=int, default=4)
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--outside", type=int, default=2, help="outside writer threads (default 2)")
    parser.add_argument("--shrink", type=int, default=6, help="most reruns to shrink a failure (default 6; 0: none)")
    parser.add_argument("--output", type=Path, default=OUTPUT_DIR)
    args = parser.parse_args(argv)
    names = [name for name in args.only.split(",") if name]
    unknown = set(names) - set(CATALOGUE)
    if unknown:
        parser.error(f"unknown faults {sorted(unknown)}; the catalogue: {', '.join(CATALOGUE)}")
    elsewhere = set(names) - unknown - set(names_for(args.topology))
    if elsewhere:
        parser.error(
            f"{sorted(elsewhere)} do not apply to the {args.topology} topology; its faults: "
            f"{', '.join(names_for(args.topology))}"
        )
    args.names = names or None
    return args


def make_plan(args: argparse.Namespace) -> list[schedule.Planned]:
    """The seed's schedule, drawn from the faults of ``args.topology``: seed and
    topology together replay a run."""
    chosen = kinds(args.names, topology=args.topology)
    return schedule.plan(seed=args.seed, kinds=chosen, count=args.faults, window=args.window)


def attempt_plan(args: argparse.Namespace, faults: list[schedule.Planned]) -> dict:
    """What one run (``attempt``) is told: the topology to build and the faults to run."""
    return {
        "seed": args.seed,
        "topology": args.topology,
        "window": args.window,
        "schedule": [asdict(fault) for fault in faults],
        "readers": args.readers,
        "writers": args.writers,
        "outside": args.outside,
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    planned = make_plan(args)
    print(f"[chaos] seed {args.seed} ({args.topology}): {schedule.describe(planned)}", file=sys.stderr, flush=True)
    attempts = [run_attempt(args, planned, "full schedule")]
    if attempts[0].failed and args.shrink:
        attempts += shrink(args, planned, attempts[0])
    text = report.render(args, planned, attempts)
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / "report.md").write_text(text)
    print(text)
    print(f"Written to {args.output / 'report.md'}.", file=sys.stderr)
    return 1 if attempts[0].failed else 0


def shrink(args, planned: list[schedule.Planned], first: Attempt) -> list[Attempt]:
    """Drop one fault at a time; keep the smaller schedule while it still fails."""
    smallest, reruns = list(planned), []
    progress = True
    while progress and len(smallest) > 1 and len(reruns) < args.shrink:
        progress = False
        for fault in list(smallest):
            if len(reruns) >= args.shrink:
                break
            fewer = [each for each in smallest if each is not fault]
            attempt = run_attempt(args, fewer, f"rerun {len(reruns) + 1}: without #{fault.index} {fault.name}")
            reruns.append(attempt)
            if attempt.failed:
                smallest, progress = fewer, True
                break
    return reruns


def run_attempt(args, faults: list[schedule.Planned], label: str) -> Attempt:
    number = len(list(args.output.glob("run-*"))) + 1 if args.output.exists() else 1
    folder = args.output / f"run-{number}"
    folder.mkdir(parents=True)
    plan = attempt_plan(args, faults)
    (folder / "plan.json").write_text(json.dumps(plan, indent=1))
    print(f"[chaos] {label}: {schedule.describe(faults)} -> {folder}", file=sys.stderr, flush=True)
    started = time.monotonic()
    command = [sys.executable, "-m", "devtools.chaos.attempt", "--plan", str(folder / "plan.json")]
    command += ["--folder", str(folder)]
    with (folder / "attempt.log").open("w") as output:
        try:
            done = subprocess.run(
                command, cwd=BASE_DIR, stdout=output, stderr=subprocess.STDOUT, timeout=ATTEMPT_TIMEOUT_SECONDS
            )
            error = "" if done.returncode == 0 else f"the run exited with {done.returncode}; see {folder}/attempt.log"
        except subprocess.TimeoutExpired:
            error = f"the run took over {ATTEMPT_TIMEOUT_SECONDS} s and was stopped"
    seconds = time.monotonic() - started
    history_path = folder / "history.jsonl"
    if error or not history_path.exists():
        return Attempt(label, faults, folder, None, seconds, error or "no history written")
    verdict = checker.check(History.load(history_path))
    print(
        f"[chaos] {label}: {'passed' if verdict.passed else verdict.failures()} in {seconds:.0f} s",
        file=sys.stderr,
        flush=True,
    )
    return Attempt(label, faults, folder, verdict, seconds)
