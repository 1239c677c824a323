"""make chaos: the schedule is the seed's, the checker reports each broken
promise it is shown, and a short fixed-seed run against real processes
(DynamoDB Local, redis-server, gunicorn, follow_stream) passes the checker."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from devtools.chaos import checker, runner, schedule
from devtools.chaos.catalogue import CATALOGUE, kinds, names_for
from devtools.chaos.history import FaultRecord, History, OutsideWrite, Seen, Stored, WriteRecord

ROOT = Path(__file__).resolve().parents[2]
PAGE = "/restaurants/Chaos%20writer%201/"


def write(number: int, outcome: str = "confirmed", *, started: float, done: float) -> WriteRecord:
    return WriteRecord("kim", "Chaos writer 1", number, "edit", f"chaos w1 {number}", started, done, outcome, outcome)


def page(at: float, *shows: str, cache: str = "HIT", status: int = 200, explained: bool = False) -> Seen:
    return Seen(at, "anonymous", "GET", PAGE, status, cache, 0.01, "", shows, explained)


def healthy_history() -> History:
    """Two confirmed writes, one fault from 10 to 12 s, pages that show the writes,
    a steady hit ratio and outside writes seen at once: passes every check."""
    answers = [page(at / 4, "chaos w1 1" if at / 4 < 21 else "chaos w1 2") for at in range(0, 4 * 40)]
    return History(
        meta={"baseline_start": 0.0, "window_start": 5.0, "load_end": 40.0},
        faults=[FaultRecord(0, "redis-pause", 10.0, 12.0, 10.0, 12.0)],
        answers=answers,
        writes=[write(1, started=1.0, done=1.1), write(2, started=20.0, done=20.1)],
        outside=[OutsideWrite("o", "/o/", "outside 1", done, done + 0.3) for done in (2.0, 13.0, 30.0)],
        stored=[Stored("kim", "Chaos writer 1", "chaos w1 2", 1, 3, 3)],
        pages={PAGE: "kim"},
    )


def test_the_same_seed_plans_the_same_schedule_and_another_seed_another():
    first = schedule.plan(seed=7, kinds=kinds(), count=6, window=30)
    assert first == schedule.plan(seed=7, kinds=kinds(), count=6, window=30)
    assert first != schedule.plan(seed=8, kinds=kinds(), count=6, window=30)
    assert {fault.name for fault in first} <= set(CATALOGUE)
    assert all(0 <= fault.start < fault.end <= 30 for fault in first)


# The replica topology's catalogue, in the order its seeds draw from (make test's seed 3 among them).
REPLICA_FAULTS = [
    "redis-restart-older-snapshot",
    "redis-pause",
    "replica-detach",
    "promotion-endpoint-move",
    "dynamodb-pause",
    "follower-killed",
    "second-follower",
    "hostile-items",
    "rolling-release",
]
CLUSTER_FAULTS = [
    "cluster-failover",
    "cluster-primary-kill",
    "dynamodb-pause",
    "follower-killed",
    "second-follower",
    "hostile-items",
    "rolling-release",
]


def test_each_topology_draws_only_the_faults_that_apply_to_it():
    assert names_for("replica") == REPLICA_FAULTS  # as before the cluster: the replica seeds replay unchanged
    assert names_for("cluster") == CLUSTER_FAULTS
    for seed in range(30):
        planned = runner.make_plan(runner.parse_args(["--seed", str(seed), "--topology", "cluster"]))
        assert {fault.name for fault in planned} <= set(CLUSTER_FAULTS), seed
    drawn = {
        fault.name
        for seed in range(30)
        for fault in runner.make_plan(runner.parse_args(["--seed", str(seed), "--topology", "cluster"]))
    }
    assert {"cluster-failover", "cluster-primary-kill"} <= drawn


def test_the_default_topology_is_the_replica_pair_with_its_old_schedules():
    args = runner.parse_args(["--seed", "3", "--faults", "5", "--window", "14"])
    assert args.topology == "replica"
    assert runner.make_plan(args) == schedule.plan(seed=3, kinds=kinds(REPLICA_FAULTS), count=5, window=14)


def test_a_seed_and_topology_replay_the_same_schedule_and_the_run_is_told_the_topology():
    args = runner.parse_args(["--seed", "4", "--topology", "cluster"])
    planned = runner.make_plan(args)
    assert planned == runner.make_plan(runner.parse_args(["--seed", "4", "--topology", "cluster"]))
    assert planned != runner.make_plan(runner.parse_args(["--seed", "4"]))
    told = runner.attempt_plan(args, planned)
    assert told["topology"] == "cluster" and told["seed"] == 4
    assert [schedule.Planned(**fault) for fault in told["schedule"]] == planned


def test_a_fault_of_the_other_topology_is_refused_with_the_topologys_faults(capsys):
    with pytest.raises(SystemExit):
        runner.parse_args(["--topology", "cluster", "--only", "cluster-failover,replica-detach"])
    said = capsys.readouterr().err
    assert "['replica-detach'] do not apply to the cluster topology" in said and "cluster-primary-kill" in said
    with pytest.raises(SystemExit):
        runner.parse_args(["--only", "cluster-primary-kill"])
    only = runner.parse_args(["--topology", "cluster", "--only", "cluster-primary-kill"])
    assert {fault.name for fault in runner.make_plan(only)} == {"cluster-primary-kill"}


def test_faults_on_one_resource_never_overlap():
    by_name = {kind.name: kind for kind in kinds()}
    for seed in range(40):
        planned = schedule.plan(seed=seed, kinds=kinds(), count=8, window=20)
        for one in planned:
            for other in planned:
                if one is not other and by_name[one.name].resources & by_name[other.name].resources:
                    assert not one.overlaps(other), (seed, one, other)


def test_a_healthy_history_passes():
    verdict = checker.check(healthy_history())
    assert verdict.passed, verdict.failures()


def test_a_confirmed_review_dynamodb_does_not_hold_is_reported_lost():
    history = healthy_history()
    history.stored = [Stored("kim", "Chaos writer 1", "chaos w1 1", 1, 3, 3)]
    verdict = checker.check(history)
    assert verdict.failures() == {"lost": 1}
    assert "write 2" in verdict.lost[0] and "'chaos w1 1'" in verdict.lost[0]


def test_a_review_stored_twice_or_miscounted_is_reported():
    history = healthy_history()
    history.stored = [Stored("kim", "Chaos writer 1", "chaos w1 2", 2, 4, 3)]
    assert len(checker.check(history).lost) == 2


def test_a_refused_write_that_was_applied_is_an_untrue_answer():
    history = healthy_history()
    history.writes.append(write(3, "refused", started=25.0, done=25.1))
    history.stored = [Stored("kim", "Chaos writer 1", "chaos w1 3", 1, 3, 3)]
    assert checker.check(history).failures() == {"untrue answers": 1}


def test_a_stale_hit_while_no_fault_is_active_is_reported():
    history = healthy_history()
    history.answers.append(page(25.0, "chaos w1 1"))  # 5 s after write 2 was confirmed
    verdict = checker.check(history)
    assert verdict.failures() == {"stale HITs": 1, "stale after recovery": 1}
    assert "lacks kim's write 2" in verdict.stale_hits[0]


def test_a_stale_hit_during_a_fault_is_reported_apart_and_after_it_a_stale_page_is():
    history = healthy_history()
    history.writes.insert(1, write(2, started=9.0, done=9.1))
    history.writes[2] = write(3, started=20.0, done=20.1)
    history.stored = [Stored("kim", "Chaos writer 1", "chaos w1 3", 1, 3, 3)]
    history.answers = [a for a in history.answers if a.at < 10 or a.at >= 20.5]
    history.answers += [page(11.0, "chaos w1 1"), page(14.5, "chaos w1 1", cache="MISS")]
    history.answers = [page(a.at, "chaos w1 3") if a.at >= 20.5 else a for a in history.answers]
    verdict = checker.check(history)
    # 11 s: a HIT during the fault, 1.9 s after write 2 was confirmed; 14.5 s: 2.5 s after the fault, without it
    assert verdict.failures() == {"stale HITs during a fault": 1, "stale after recovery": 1}
    assert "11.00s" in verdict.stale_hits_in_faults[0] and "14.50s" in verdict.stale_after_recovery[0]


def test_a_500_is_reported_and_an_explaining_503_is_not():
    history = healthy_history()
    history.answers += [page(7.0, status=500), page(7.5, status=503, explained=True), page(8.0, status=503)]
    history.answers.append(Seen(8.5, "anonymous", "GET", "/", 0, "", 30.0, "ConnectionResetError()"))
    verdict = checker.check(history)
    assert verdict.failures() == {"5xx": 2, "unanswered": 1}
    assert "-> 500" in verdict.server_errors[0] and "-> 503" in verdict.server_errors[1]


def test_a_cache_that_stays_cold_or_a_follower_that_stays_behind_is_reported():
    history = healthy_history()
    history.answers = [page(a.at, *a.shows, cache="MISS") if a.at > 12 else a for a in history.answers]
    history.outside[-1] = OutsideWrite("o", "/o/", "outside 3", 30.0, None)
    assert checker.check(history).failures() == {"hit ratio not recovered": 1, "follower lag not recovered": 1}


def test_a_history_saved_and_loaded_is_checked_the_same(tmp_path):
    history = healthy_history()
    history.answers.append(page(25.0, "chaos w1 1"))
    history.save(tmp_path / "history.jsonl")
    again = History.load(tmp_path / "history.jsonl")
    assert (
        checker.check(again).failures()
        == checker.check(history).failures()
        == {
            "stale HITs": 1,
            "stale after recovery": 1,
        }
    )


@pytest.mark.integration
def test_a_short_fixed_seed_schedule_passes_the_checker_and_stops_everything(tmp_path):
    command = [sys.executable, "-m", "devtools.chaos", "--seed", "3", "--faults", "5", "--window", "14"]
    command += ["--readers", "3", "--writers", "2", "--outside", "1", "--shrink", "0", "--output", str(tmp_path)]
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "reviews_site.settings_dev"}
    done = subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=240)
    report = (tmp_path / "report.md").read_text()
    assert done.returncode == 0, report[:6000] + done.stderr[-2000:]
    assert "| full schedule |" in report and "passed" in report
    assert (tmp_path / "run-1" / "history.jsonl").exists()
    leftovers = subprocess.run(["pgrep", "-f", str(tmp_path)], capture_output=True, text=True)
    assert leftovers.stdout == ""


def test_a_failure_shrinks_to_the_faults_that_still_fail(monkeypatch, tmp_path):
    """Runs are faked: any schedule holding faults 1 and 3 fails. Shrinking
    drops the others, one rerun at a time, and keeps 1 and 3."""
    planned = [schedule.Planned(index, "redis-pause", index * 3.0, index * 3.0 + 1) for index in range(4)]

    def fake(args, faults, label):
        failing = {1, 3} <= {fault.index for fault in faults}
        verdict = checker.Verdict(0.0, lost=["x"] if failing else [])
        verdict.hit_ratio = verdict.follower_lag = checker.Recovery(0.0, "")
        return runner.Attempt(label, faults, tmp_path, verdict, 0.0)

    monkeypatch.setattr(runner, "run_attempt", fake)
    args = runner.parse_args(["--shrink", "6", "--output", str(tmp_path)])
    reruns = runner.shrink(args, planned, fake(args, planned, "full"))
    smallest = min((attempt for attempt in reruns if attempt.failed), key=lambda attempt: len(attempt.faults))
    assert [fault.index for fault in smallest.faults] == [1, 3]
    assert len(reruns) <= 6
