"""Shards as AWS hands them over: a parent closes and splits, records age out
after 24 hours, iterators expire after 15 minutes. DynamoDB Local and moto
keep one shard, so the stream itself is a fake here (``FakeStream``); the
checkpoints are real items in the table."""

import pytest

from restaurants import stream_follower
from restaurants.dynamo import streams
from restaurants.dynamo.errors import IteratorExpired, RecordsTrimmed
from restaurants.dynamo.streams import ItemChange, Shard, Stream


def _change(sequence: int, name: str) -> ItemChange:
    return ItemChange(
        sequence=str(sequence),
        event="INSERT",
        pk=f"USER#{name}",
        sk="REST#Somewhere",
        old=None,
        new={"PK": f"USER#{name}", "SK": "REST#Somewhere"},
    )


class FakeStream:
    def __init__(self, monkeypatch) -> None:
        self.stream = Stream(arn="arn:aws:dynamodb:fake/stream/1", label="fake-1")
        self.shards: dict[str, Shard] = {}
        self.records: dict[str, list[ItemChange]] = {}
        self.trimmed: dict[str, int] = {}  # shard: sequence numbers below this are gone
        self.asked: list[tuple[str, str | None]] = []  # GetShardIterator calls: (shard, after)
        self.expire_next = False
        monkeypatch.setattr(streams, "table_stream", lambda: self.stream)
        monkeypatch.setattr(streams, "shards", lambda stream: list(self.shards.values()))
        monkeypatch.setattr(streams, "shard_iterator", self.shard_iterator)
        monkeypatch.setattr(streams, "read_records", self.read_records)

    def add_shard(self, shard_id: str, *changes: ItemChange, parent: str | None = None, closed: bool = False):
        self.shards[shard_id] = Shard(shard_id, parent, closed)
        self.records[shard_id] = list(changes)

    def close(self, shard_id: str) -> None:
        self.shards[shard_id] = Shard(shard_id, self.shards[shard_id].parent_id, True)

    def shard_iterator(self, stream, shard_id, *, after, latest=False):
        self.asked.append((shard_id, "LATEST" if latest else after))
        oldest = self.trimmed.get(shard_id, 0)
        if after is not None and int(after) < oldest:
            raise RecordsTrimmed("TrimmedDataAccessException")
        kept = [c for c in self.records[shard_id] if int(c.sequence) >= oldest]
        if latest:
            start = len(kept)
        else:
            start = 0 if after is None else sum(1 for c in kept if int(c.sequence) <= int(after))
        return f"{shard_id}|{oldest}|{start}"

    def read_records(self, iterator, *, limit=1000):
        if self.expire_next:
            self.expire_next = False
            raise IteratorExpired("ExpiredIteratorException")
        shard_id, oldest, start = iterator.split("|")
        kept = [c for c in self.records[shard_id] if int(c.sequence) >= int(oldest)]
        batch = kept[int(start) : int(start) + limit]
        end = int(start) + len(batch)
        if self.shards[shard_id].closed and end == len(kept):
            return batch, None
        return batch, f"{shard_id}|{oldest}|{end}"


@pytest.fixture
def fake(table, monkeypatch):
    return FakeStream(monkeypatch)


@pytest.fixture
def applied():
    return []


@pytest.fixture
def gaps():
    return []


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _follower(applied, gaps, clock=None) -> stream_follower.StreamFollower:
    return stream_follower.StreamFollower(apply=applied.extend, on_gap=gaps.append, clock=clock or Clock())


def _started(fake, applied, gaps, *shard_ids: str, clock=None) -> stream_follower.StreamFollower:
    """A consumer past its first start, on open shards that were empty then."""
    for shard_id in shard_ids:
        fake.add_shard(shard_id)
    follower = _follower(applied, gaps, clock)
    follower.catch_up()
    assert gaps == ["first start on stream fake-1"]
    return follower


def _names(applied) -> list[str]:
    return [change.pk.removeprefix("USER#") for change in applied if not change.is_own_checkpoint]


def test_a_first_start_retires_every_cache_and_skips_what_the_stream_holds(fake, applied, gaps, monkeypatch):
    fake.add_shard("old", _change(1, "o1"), closed=True)
    fake.add_shard("open", _change(2, "before"), parent="old")
    events = []
    monkeypatch.setattr(
        streams, "shard_iterator", lambda *a, **k: events.append("iterator") or fake.shard_iterator(*a, **k)
    )
    follower = stream_follower.StreamFollower(apply=applied.extend, on_gap=lambda reason: events.append(reason))

    follower.catch_up()
    assert events == ["iterator", "first start on stream fake-1"]  # a write after the flush is read
    assert fake.asked == [("open", "LATEST")]
    fake.records["open"].append(_change(3, "after"))
    follower.catch_up()
    assert _names(applied) == ["after"]
    assert streams.checkpoints(fake.stream)["old"].finished


def test_a_closed_parent_is_drained_before_its_children(fake, applied, gaps):
    follower = _started(fake, applied, gaps, "parent")
    fake.records["parent"] += [_change(10, "p1"), _change(20, "p2")]
    fake.close("parent")
    parent = fake.shards.pop("parent")
    fake.add_shard("child-a", _change(30, "a1"), parent="parent")  # listed before their parent:
    fake.add_shard("child-b", _change(40, "b1"), parent="parent")  # nothing promises an order
    fake.shards["parent"] = parent

    follower.catch_up()
    assert _names(applied)[:2] == ["p1", "p2"]
    assert sorted(_names(applied)[2:]) == ["a1", "b1"]
    assert ("child-a", None) in fake.asked  # a new shard is read from its oldest record
    saved = streams.checkpoints(fake.stream)
    assert saved["parent"].finished and saved["parent"].sequence == "20"


def test_a_restart_skips_finished_shards_and_resumes_the_others(fake, applied, gaps):
    follower = _started(fake, applied, gaps, "parent")
    fake.records["parent"].append(_change(10, "p1"))
    fake.close("parent")
    fake.add_shard("child", _change(20, "c1"), parent="parent")
    follower.catch_up()

    fake.records["child"].append(_change(21, "c2"))
    fake.asked.clear()
    again: list[ItemChange] = []
    _follower(again, gaps).catch_up()
    assert _names(again) == ["c2"]
    assert fake.asked == [("child", "20")]
    assert gaps == ["first start on stream fake-1"]  # only the first start


def test_children_are_read_as_soon_as_their_parent_closes(fake, applied, gaps):
    follower = _started(fake, applied, gaps, "parent")
    fake.records["parent"].append(_change(10, "p1"))
    follower.catch_up()

    fake.records["parent"].append(_change(11, "p2"))
    fake.close("parent")
    fake.add_shard("child", _change(20, "c1"), parent="parent")
    follower.catch_up()  # no wait for the next listing: a drained shard asks for its children
    assert _names(applied) == ["p1", "p2", "c1"]


def test_a_parent_closed_at_its_end_hands_over_in_the_same_catch_up(fake, applied, gaps):
    follower = _started(fake, applied, gaps, "parent")
    fake.close("parent")  # no record since we last read it
    fake.add_shard("child", _change(20, "c1"), parent="parent")
    follower.catch_up()
    assert _names(applied) == ["c1"]


def test_new_shards_are_looked_for_every_few_seconds(fake, applied, gaps):
    clock = Clock()
    follower = _started(fake, applied, gaps, "other", clock=clock)
    fake.add_shard("child", _change(20, "c1"), parent="gone-parent")  # its parent aged out of the stream
    follower.catch_up()
    assert _names(applied) == []
    clock.now += stream_follower.SHARD_LIST_SECONDS
    follower.catch_up()
    assert _names(applied) == ["c1"]


def test_records_trimmed_before_they_were_read_retire_every_cache(fake, applied, gaps):
    follower = _started(fake, applied, gaps, "shard")
    fake.records["shard"].append(_change(10, "r1"))
    follower.catch_up()
    fake.records["shard"] += [_change(11, "lost"), _change(12, "kept")]
    fake.trimmed["shard"] = 12  # the consumer was stopped for more than 24 hours

    again: list[ItemChange] = []
    _follower(again, gaps).catch_up()
    assert gaps[-1] == "records of shard shard after 10 were trimmed"
    assert _names(again) == ["kept"]
    assert fake.asked[-1] == ("shard", None)


def test_a_shard_gone_before_we_finished_it_retires_every_cache(fake, applied, gaps):
    follower = _started(fake, applied, gaps, "old")
    fake.records["old"].append(_change(10, "o1"))
    follower.catch_up()
    del fake.shards["old"]
    fake.add_shard("new", _change(50, "n1"), parent="old")

    again: list[ItemChange] = []
    _follower(again, gaps).catch_up()
    assert gaps[-1] == "shard old was trimmed before we finished reading it"
    assert _names(again) == ["n1"]


def test_an_expired_iterator_resumes_after_the_last_applied_record(fake, applied, gaps):
    follower = _started(fake, applied, gaps, "shard")
    fake.records["shard"].append(_change(10, "r1"))
    follower.catch_up()
    fake.records["shard"].append(_change(11, "r2"))
    fake.expire_next = True  # unused for 15 minutes, during a long Redis outage

    follower.catch_up()
    assert _names(applied) == ["r1", "r2"]
    assert fake.asked[-1] == ("shard", "10")


def test_a_batch_that_fails_is_applied_again_and_nothing_after_it_first(fake, gaps):
    attempts: list[list[str]] = []

    def apply(changes):
        attempts.append(_names(changes))
        if len(attempts) == 1:
            raise stream_follower.CacheDown("Redis is down")

    follower = _started(fake, [], gaps, "shard")
    follower.apply = apply
    fake.records["shard"] += [_change(10, "r1"), _change(11, "r2")]
    with pytest.raises(stream_follower.CacheDown):
        follower.poll()
    assert streams.checkpoints(fake.stream)["shard"].sequence is None
    follower.catch_up()
    assert attempts[:2] == [["r1", "r2"], ["r1", "r2"]]
    assert streams.checkpoints(fake.stream)["shard"].sequence == "11"


def test_a_checkpoint_never_moves_back(fake):
    assert streams.checkpoint_save(fake.stream, "shard", sequence="20")
    assert not streams.checkpoint_save(fake.stream, "shard", sequence="9")  # another consumer is ahead
    assert streams.checkpoint_save(fake.stream, "shard", sequence="20", finished=True)
    assert not streams.checkpoint_save(fake.stream, "shard", sequence="20")
    assert streams.checkpoints(fake.stream)["shard"] == streams.Checkpoint("shard", "20", True)
