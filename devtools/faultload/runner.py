"""Orchestration: DynamoDB Local and data once, then per fault: Redis, the
site, a bounded load with the fault in the middle, the checks, all stopped.

Each fault gets fresh Redis servers and a fresh gunicorn (a new process
state, like a deploy), the same DynamoDB table, the same writers (users),
and restaurants of its own, so one fault's pages cannot hide another's.
Everything is registered on an ExitStack the moment it starts, so it is
stopped on success, on error, on Ctrl-C and on SIGTERM.
"""

import argparse
import contextlib
import dataclasses
import json
import os
import shutil
import signal
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import redis

from devtools.embedded.redis_server import RedisServerError

from . import check, load, report, services
from .faults import FAULTS, Fault, Stage
from .report import Outcome

BASE_DIR = Path(__file__).resolve().parents[2]
OUTPUT_DIR = BASE_DIR / "var" / "faultload"
RESTAURANTS, USERS, REVIEWS_PER_USER = 30, 200, 2
SAVE_AT, FAULT_AT, SETTLE_SECONDS = 2.5, 5.0, 2.0
# A fault that cannot be staged is reported as such; the other faults still run.
STAGING_ERRORS = (services.FaultLoadError, RedisServerError, redis.RedisError)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m devtools.faultload", description=__doc__)
    parser.add_argument("--faults", default="abcde", help="which faults to stage, by letter (default abcde)")
    parser.add_argument("--seconds", type=float, default=16, help="load per fault (default 16; fault at 5 s)")
    parser.add_argument("--readers", type=int, default=4, help="anonymous reader threads (default 4)")
    parser.add_argument("--writers", type=int, default=4, help="logged-in writer threads (default 4)")
    parser.add_argument("--output", type=Path, default=OUTPUT_DIR / "results.md")
    args = parser.parse_args(argv)
    unknown = set(args.faults) - {fault.key for fault in FAULTS}
    if unknown or args.seconds < FAULT_AT + 6 or args.writers * len(args.faults) > RESTAURANTS:
        parser.error(f"--faults from {''.join(f.key for f in FAULTS)}; --seconds ≥ {FAULT_AT + 6:g}; fewer writers")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    previous = {number: signal.signal(number, _interrupt) for number in (signal.SIGINT, signal.SIGTERM)}
    started = time.monotonic()
    try:
        with contextlib.ExitStack() as running:
            outcomes = run(args, running)
    except KeyboardInterrupt:
        print("\nInterrupted: everything the run started is stopped.", file=sys.stderr)
        return 130
    except (services.FaultLoadError, RedisServerError) as error:
        print(f"faultload failed: {error}", file=sys.stderr)
        return 1
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    setup = (
        f"DynamoDB Local (in memory), {RESTAURANTS} restaurants, {USERS} users × {REVIEWS_PER_USER} reviews; "
        f"gunicorn -w 2 --threads 4; per fault {args.readers} anonymous readers and {args.writers} writers "
        f"for {args.seconds:g} s (fault at {FAULT_AT:g} s), checks {SETTLE_SECONDS:g} s after the load; "
        f"whole run {time.monotonic() - started:.0f} s."
    )
    text = report.render(outcomes, setup)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text)
    print(text)
    print(f"Written to {args.output}.", file=sys.stderr)
    return 0


def _interrupt(signum, frame):
    """Ctrl-C or SIGTERM (even from a shell that started us with SIGINT
    ignored): stop, and let a second one not cut the stopping short."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise KeyboardInterrupt


def progress(message: str) -> None:
    print(f"[faultload] {message}", file=sys.stderr, flush=True)


def run(args: argparse.Namespace, running: contextlib.ExitStack) -> list[Outcome]:
    dynamodb = services.start_dynamodb(running)
    os.environ.update(services.site_environment(dynamodb.url, {}))  # this process reads the truth
    import django

    django.setup()
    from restaurants.dynamo import reads

    services.seed(restaurants=RESTAURANTS, users=USERS, reviews_per_user=REVIEWS_PER_USER)
    usernames = services.create_writers(args.writers)
    names = [restaurant.name for restaurant in reads.restaurant_list(page_size=100).items]
    cuisine = reads.cuisine_list()[0]
    progress(f"{dynamodb.kind} at {dynamodb.url}, seeded; writers {', '.join(usernames)}")
    outcomes = []
    for number, fault in enumerate(fault for fault in FAULTS if fault.key in args.faults):
        mine = names[number * args.writers : (number + 1) * args.writers]
        folder = args.output.parent / fault.key  # Redis snapshots and the gunicorn log
        shutil.rmtree(folder, ignore_errors=True)  # an old snapshot must not be loaded
        folder.mkdir(parents=True)
        outcome = Outcome(fault, server_log=folder / "gunicorn.log")
        started = time.monotonic()
        try:
            with contextlib.ExitStack() as stage_stack:
                progress(f"({fault.key}) {fault.title}")
                stage = fault.setup(stage_stack, folder)
                env = services.site_environment(dynamodb.url, stage.redis)
                site = services.start_site(stage_stack, env=env, log_path=outcome.server_log)
                _stage_load(args, fault, stage, site, dict(zip(usernames, mine, strict=True)), names, cuisine, outcome)
        except STAGING_ERRORS as error:
            outcome.error = f"{type(error).__name__}: {error}"
        outcome.seconds = time.monotonic() - started
        _keep_raw(outcome, folder)
        progress(f"({fault.key}) done in {outcome.seconds:.0f} s")
        outcomes.append(outcome)
    return outcomes


def _stage_load(args, fault: Fault, stage: Stage, site, assignments, names, cuisine, outcome: Outcome) -> None:
    from django.urls import reverse

    log = load.Log()
    writers = []
    for number, (username, restaurant) in enumerate(assignments.items()):
        paths = load.Paths.of(username=username, restaurant=restaurant)
        label = f"faultload {fault.key} {username.rsplit('-', 1)[-1]}"
        quiet_from = FAULT_AT if number % 2 else None  # every other writer's pages rely on the fault handling
        writers.append(load.Writer(site, log, username, restaurant, paths, label, think=0.25, quiet_from=quiet_from))
    outcome.writers, outcome.answers = writers, log.answers
    quiet = ", ".join(writer.username for writer in writers if writer.quiet_from is not None)
    outcome.timeline.append(f"writers stopping at the fault (their pages rely on the fault handling): {quiet}")
    load.log_in_all(writers)
    reading = [writer.paths.detail for writer in writers] * 4 + [writer.paths.reviews for writer in writers]
    others = [name for name in names if name not in assignments.values()][:8]
    reading += [reverse("restaurants:detail", args=[name]) for name in others]
    reading += ["/", "/", "/?" + urlencode({"cuisine": cuisine}), "/top/"] + [writer.paths.user for writer in writers]
    steps = [(SAVE_AT, stage.prepare), (FAULT_AT, stage.inject), (FAULT_AT + fault.outage_seconds, stage.recover)]
    with load.running(site, log, writers, reading, readers=args.readers, think=0.02):
        for at, step in steps:
            load.sleep_until(log, at)
            try:
                said = step()
            except STAGING_ERRORS as error:  # the load goes on; the report says what failed
                said = f"FAILED: {type(error).__name__}: {error}"
            if said:
                outcome.timeline.append(f"{log.now():.1f}s {said}")
        load.sleep_until(log, args.seconds)
    outcome.timeline.append(f"{log.now():.1f}s load stopped; checks after {SETTLE_SECONDS:g} s")
    time.sleep(SETTLE_SECONDS)
    for writer in writers:
        held = check.truth(writer)
        outcome.lost += [lost] if (lost := check.lost_review(writer, held)) else []
        outcome.wrong += check.wrong_answers(writer, held)
        lost_session = check.session_lost(site, writer)
        outcome.sessions_lost += [lost_session] if lost_session else []
        outcome.stale += check.stale_pages(site, writer, held, own_page=lost_session is None)


def _keep_raw(outcome: Outcome, folder: Path) -> None:
    """Every answer and every write as JSON lines, beside the gunicorn log, for a closer look."""
    with (folder / "answers.jsonl").open("w") as answers:
        for answer in outcome.answers:
            answers.write(json.dumps(dataclasses.asdict(answer)) + "\n")
    with (folder / "writes.jsonl").open("w") as writes:
        for writer in outcome.writers:
            for write in writer.writes:
                writes.write(json.dumps({"username": writer.username, **dataclasses.asdict(write)}) + "\n")
