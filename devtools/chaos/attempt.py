"""One chaos run, in a process of its own: ``python -m devtools.chaos.attempt``.

Its own process because the settings (DynamoDB endpoint, table) are read
once per process, and each run (a shrinking rerun too) gets fresh services.
It starts everything (``world``), runs the load with the planned faults, and
writes the history as JSON lines; the parent checks it (``checker``).

Timeline, in load seconds: warm-up (the cache fills; the "older" Redis
snapshot is saved half-way), the fault window (each planned fault started
and healed at its time, or as soon as the step before it let it), then the
recovery tail with the load still on, the load stopped, the final probes and
DynamoDB's consistent view.
"""

import argparse
import contextlib
import json
import os
import random
import secrets
import subprocess
import threading
import time
from dataclasses import replace
from pathlib import Path
from urllib.parse import quote

import botocore.config
import botocore.exceptions
import redis

from devtools.embedded.redis_server import RedisServerError
from devtools.faultload import load, services

from . import outside, world
from .catalogue import CATALOGUE
from .history import ChaosLog, FaultRecord, History, OutsideWrite, Stored, WriteRecord, shown_reviews
from .schedule import Planned

WARMUP_SECONDS = 6.0
TAIL_SECONDS = 14.0  # after the last fault: the 10 s recovery and a window to measure it
MAX_OUTSIDE_WRITES = 500
LOOK_FOR_SECONDS = 15.0  # an outside writer looks for its write this long
STEP_ERRORS = (
    services.FaultLoadError,
    RedisServerError,
    redis.RedisError,
    OSError,
    subprocess.SubprocessError,
    botocore.exceptions.BotoCoreError,
    botocore.exceptions.ClientError,
)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m devtools.chaos.attempt")
    parser.add_argument("--plan", type=Path, required=True, help="JSON: seed, schedule, window, load sizes")
    parser.add_argument("--folder", type=Path, required=True)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    plan = json.loads(args.plan.read_text())
    args.folder.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        history = run(plan, args.folder, stack)
    history.save(args.folder / "history.jsonl")
    return 0


def progress(message: str) -> None:
    print(f"[chaos] {message}", flush=True)


def run(plan: dict, folder: Path, stack: contextlib.ExitStack) -> History:
    schedule = [Planned(**fault) for fault in plan["schedule"]]
    dynamodb = services.start_dynamodb(stack)
    base_env = services.site_environment(dynamodb.url, {})
    os.environ.update(base_env)  # this process writes the data and reads the truth
    import django

    django.setup()

    from restaurants.dynamo import writes

    services.seed(restaurants=8, users=10, reviews_per_user=1)
    usernames = services.create_writers(plan["writers"])
    mine = [f"Chaos writer {number}" for number in range(1, plan["writers"] + 1)]
    theirs = [f"Chaos outside {number}" for number in range(1, plan["outside"] + 1)]
    for name in mine + theirs:
        writes.restaurant_create(name=name, cuisine="Diner", address="1 Chaos Street")
    the_world = world.build(stack, folder, dynamodb, base_env, plan.get("topology", "replica"))
    progress(f"services up ({the_world.topology}); schedule {[fault.name for fault in schedule]}")

    log = ChaosLog()
    history = History(meta={key: plan[key] for key in ("seed", "window", "schedule")})
    history.meta["topology"] = the_world.topology
    window_start = WARMUP_SECONDS
    window_end = window_start + plan["window"]
    writers = []
    for number, (username, restaurant) in enumerate(zip(usernames, mine, strict=True)):
        paths = load.Paths.of(username=username, restaurant=restaurant)
        quiet_from = window_end if number % 2 else None  # their pages then rely on the fault handling
        label = f"chaos w{number + 1}"
        writers.append(
            load.Writer(the_world.visitor, log, username, restaurant, paths, label, think=0.3, quiet_from=quiet_from)
        )
        history.pages.update(dict.fromkeys((paths.detail, paths.reviews, paths.user), username))
    load.log_in_all(writers)
    reading = the_world.reader_paths
    reading += [writer.paths.detail for writer in writers] * 3 + [writer.paths.reviews for writer in writers]
    reading += [writer.paths.user for writer in writers] + ["/", "/", "/top/", "/?cuisine=Diner"]
    reading += [f"/restaurants/{quote(name)}/" for name in theirs]
    # the log's clock starts now
    log.started = time.monotonic()
    history.meta.update(baseline_start=WARMUP_SECONDS / 2, window_start=window_start)
    stop_outside = threading.Event()
    linger = threading.Event()  # set when the run is over: see _run_schedule
    stack.callback(linger.set)
    outside_threads = [
        threading.Thread(
            target=_outside_writer,
            args=(the_world, log, name, number, plan["seed"], stop_outside, history.outside),
            daemon=True,
        )
        for number, name in enumerate(theirs, start=1)
    ]
    for thread in outside_threads:
        thread.start()
    try:
        with load.running(the_world.visitor, log, writers, reading, readers=plan["readers"], think=0.03):
            load.sleep_until(log, WARMUP_SECONDS / 2)
            the_world.snapshot()
            history.faults = _run_schedule(the_world, log, schedule, window_start, linger)
            faults_end = max([f.ended or 0 for f in history.faults] + [window_end])
            load.sleep_until(log, faults_end + TAIL_SECONDS)
    finally:
        stop_outside.set()
        for thread in outside_threads:
            thread.join(timeout=LOOK_FOR_SECONDS + 10)
    history.meta["load_end"] = log.now()
    time.sleep(1.0)
    for writer in writers:  # the final look, after the load
        for path in (writer.paths.detail, writer.paths.reviews, writer.paths.user):
            log.call(the_world.visitor, "probe", "GET", path)
    history.answers = sorted(log.seen, key=lambda seen: seen.at)
    history.writes = _writes(writers, log)
    history.stored = [_stored(writer) for writer in writers]
    history.untrue = [evidence for writer in writers for evidence in writer.wrong.values()]
    history.meta["notes"] = [f"{writer.username}: {note}" for writer in writers for note in writer.notes]
    history.meta["logs"] = sorted(str(path.name) for path in folder.glob("*.log"))
    return history


def _run_schedule(
    the_world, log: ChaosLog, schedule: list[Planned], offset: float, linger: threading.Event
) -> list[FaultRecord]:
    """Each fault in a thread of its own: started at its planned time, healed
    at its planned end or as soon as its start is done (a gunicorn takes
    seconds to start), so one slow step does not delay the other faults.

    The threads live on until ``linger`` is set (the end of the run): a
    process started with ``die_with_parent`` gets SIGTERM when the *thread*
    that started it ends (Linux's parent-death signal follows the thread)."""
    records: dict[int, FaultRecord] = {}
    healed = threading.Semaphore(0)

    def one(fault: Planned) -> None:
        entry = CATALOGUE[fault.name]
        record = FaultRecord(fault.index, fault.name, offset + fault.start, offset + fault.end)
        load.sleep_until(log, record.planned_start)
        began = log.now()
        try:
            said = entry.start(the_world, fault.index)
        except STEP_ERRORS as error:
            records[fault.index] = replace(record, start_said=f"FAILED: {type(error).__name__}: {error}")
            progress(f"{began:.1f}s #{fault.index} {fault.name} did not start: {error}")
            healed.release()
            linger.wait()
            return
        progress(f"{log.now():.1f}s #{fault.index} {fault.name} start: {said}")
        record = replace(record, started=began, start_said=said)
        load.sleep_until(log, record.planned_end)
        try:
            said_healed = entry.heal(the_world, fault.index)
        except STEP_ERRORS as error:
            said_healed = f"heal FAILED: {type(error).__name__}: {error}"
        records[fault.index] = replace(record, ended=log.now(), end_said=said_healed)
        progress(f"{log.now():.1f}s #{fault.index} {fault.name} healed: {said_healed}")
        healed.release()
        linger.wait()

    for fault in schedule:
        threading.Thread(target=one, args=(fault,), name=f"fault-{fault.index}", daemon=True).start()
    for _ in schedule:
        healed.acquire()
    return sorted(records.values(), key=lambda record: record.planned_start)


def _outside_writer(the_world, log: ChaosLog, restaurant: str, number: int, seed: int, stop, kept: list) -> None:
    """Another client writing reviews with boto3, then looking for each on the anonymous page."""
    chooser = random.Random(f"{seed}-outside-{number}")
    config = botocore.config.Config(connect_timeout=2, read_timeout=4, retries={"max_attempts": 2})
    dynamodb = outside.client(the_world.dynamodb.url, config=config)
    path = f"/restaurants/{quote(restaurant)}/"
    table = the_world.env["DYNAMODB_TABLE"]
    for count in range(1, MAX_OUTSIDE_WRITES + 1):
        if stop.wait(chooser.uniform(0.3, 1.2)):
            return
        text = f"outside {number} {count} {secrets.token_hex(3)}"
        try:
            outside.lab_review_create(
                dynamodb,
                table=table,
                restaurant=restaurant,
                username=f"chaos-outsider-{number}-{count}",
                rating=count % 5 + 1,
                review=text,
            )
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError):
            continue  # not known to be written: nothing to look for
        done, seen = log.now(), None
        while seen is None and log.now() < done + LOOK_FOR_SECONDS and not stop.is_set():
            response = log.call(the_world.visitor, "outside", "GET", path)
            if response is not None and text in shown_reviews(response.body):
                seen = log.now()
            else:
                time.sleep(0.2)
        if seen is not None or not stop.is_set():
            kept.append(OutsideWrite(restaurant, path, text, done, seen))


def _writes(writers: list[load.Writer], log: ChaosLog) -> list[WriteRecord]:
    """Each write with the moment its answer arrived (its POST in the log, in order)."""
    records = []
    for writer in writers:
        posts = [
            s
            for s in log.seen
            if s.who == "writer" and s.method == "POST" and s.path in (writer.paths.create, writer.paths.edit)
        ]
        posts.sort(key=lambda seen: seen.at)
        for write, post in zip(writer.writes, posts, strict=False):
            records.append(
                WriteRecord(
                    writer.username,
                    writer.restaurant,
                    write.number,
                    write.kind,
                    write.text,
                    write.at,
                    post.at + post.seconds,
                    write.outcome,
                    write.detail,
                )
            )
    return records


def _stored(writer: load.Writer) -> Stored:
    from restaurants.dynamo import reads, writes
    from restaurants.dynamo.errors import NotFound

    try:
        text = writes.review_get(username=writer.username, restaurant=writer.restaurant).review
    except NotFound:
        text = None
    listed = reads.restaurant_reviews_list(name=writer.restaurant, page_size=100).items
    count = reads.restaurant_get(name=writer.restaurant, consistent=True).review_count
    mine = sum(review.username == writer.username for review in listed)
    return Stored(writer.username, writer.restaurant, text, mine, len(listed), count)


if __name__ == "__main__":
    raise SystemExit(main())
