"""Following the table's DynamoDB Stream, so that the caches follow the table
itself, whoever writes to it.

The site retires its caches right after its own writes (``services``). The
table is shared, though: the AWS lab's scripts, batch jobs and the console
write to it too, and without this their changes would show only when the
cached copies expire. ``manage.py follow_stream`` (or a Lambda on the stream,
``reviews_site/stream_lambda.py``) hands every batch of changes to
``changes_apply``, which

1. gives a restaurant another client wrote without our index attributes
   (the lab's create_restaurant.py, a re-run of its bulk_load_table.py) the
   attributes and cuisine that lists and the cuisine filter need, and
2. retires every cache the changed items show (``invalidation.table_changed``).

Delivery is at least once: ``StreamFollower`` stores its position in each
shard (``dynamo/streams.py``) only after a batch was applied, so a restart,
a Redis outage or a DynamoDB error replays records rather than losing them;
and applying a change twice is harmless (retiring is idempotent, index
attributes are set to the same values), so a replay has no effect that
matters. A record that cannot be applied for any reason but an outage is
skipped, never retried forever (``_skip``: what its item_keys name is retired, and
the record kept for ``follow_stream --replay-skipped``). A closed shard is
drained before its children are read (a split),
and a shard nobody read yet is read from its oldest record.

What the stream cannot tell is retired wholesale (pages and data, never
sessions): the first start on a stream (what changed before is unknown; the
records it holds already are then skipped, see ``_first_start``), a new
stream, and records lost from it (a consumer stopped for more than the 24
hours the stream keeps them).
"""

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings

from . import metrics
from .cache import invalidation
from .cache.operations import flush
from .cache.plumbing.connection import CacheDown, redis_or_fallback
from .dynamo import item_keys, schema, streams
from .dynamo.entities import shown_text
from .dynamo.errors import DataError, IteratorExpired, NotFound, RecordsTrimmed, Unavailable
from .dynamo.streams import ItemChange, Shard, Stream

log = logging.getLogger(__name__)

# What is worth applying a batch again for: DynamoDB or Redis unreachable or
# throttled. Any other error is the record's, and skipping it (``_skip``) is
# what keeps one odd item from stopping invalidation for everyone.
TRANSIENT_ERRORS = (Unavailable, CacheDown)
SHARD_LIST_SECONDS = 10.0  # how often new shards (a split) are looked for, besides when one closes
# While Redis or DynamoDB fail, the batch in hand is applied again at most this
# far apart: once they answer, other clients' writes reach the caches within
# seconds (a try costs one Redis or DynamoDB call, or nothing while a circuit is
# open). A disabled stream or a missing table is looked at again less often.
MAX_BACKOFF_SECONDS = 2.0
NOT_FOUND_RETRY_SECONDS = 10.0
WARN_EVERY_FAILURES = 15  # after the first, a warning every 15 failed tries (about 30 s)


def changes_apply(changes: list[ItemChange]) -> None:
    """Apply one batch of changes, in order. Raises ``Unavailable`` (DynamoDB)
    or ``CacheDown`` (Redis) if it could not; applying it again is safe.

    Any other error is about a record, not about the moment, and retrying
    would stop the stream for everyone: the batch is applied again one change
    at a time, and a change that still fails is skipped (``_skip``), as is a
    record whose images could not be decoded."""
    readable = [change for change in changes if change.unreadable is None]
    try:
        _apply(readable)
    except TRANSIENT_ERRORS:
        raise
    except Exception as error:  # noqa: BLE001  (whatever a record causes, today's or tomorrow's)
        if len(readable) == 1:
            _skip(readable[0], reason=f"{type(error).__name__}: {error}", error=error)
        else:
            log.warning("A batch of %d changes failed (%r): applying them one by one.", len(readable), error)
            for change in readable:
                changes_apply([change])
    for change in changes:
        if change.unreadable is not None:
            _skip(change, reason=f"its images could not be decoded ({change.unreadable})")


def _skip(change: ItemChange, *, reason: str, error: Exception | None = None) -> None:
    """A record that cannot be applied: retire what its item_keys name (always
    readable in a record from DynamoDB), keep it as a skipped record for an
    operator (``follow_stream --skipped``, ``--replay-skipped``), count and
    log it, and go on. Raises only ``Unavailable`` or ``CacheDown``, so a
    record met during an outage is tried again, not skipped."""
    retired = bool(change.pk)
    if retired:
        try:
            invalidation.keys_changed(change.pk, change.sk)
        except TRANSIENT_ERRORS:
            raise
        except Exception:  # noqa: BLE001  (it is kept below, marked unretired)
            log.exception("Could not retire what %s/%s names either.", change.pk, change.sk)
            retired = False
    try:
        new = streams.skipped_save(change, reason=reason, retired=retired)
    except Unavailable:
        raise
    except DataError:  # refused (too large, malformed): the log below is all that is left of it
        log.exception("Could not keep stream record %s as skipped.", change.sequence)
        new = True
    if new:  # a batch applied again after an outage skips its records again: counted once
        metrics.stream_records_skipped.labels("retired" if retired else "unretired").inc()
    log.error(
        "Skipped stream record %s (%s of %s/%s): %s. %s; kept for `manage.py follow_stream --replay-skipped`.",
        change.sequence,
        change.event,
        change.pk,
        change.sk,
        reason,
        "What its item_keys name was retired" if retired else "NOTHING was retired for it",
        exc_info=error,
    )


def _apply(changes: list[ItemChange]) -> None:
    latest: dict[str, dict | None] = {}
    for change in changes:
        if item_keys.is_restaurant_item({"PK": change.pk, "SK": change.sk}):
            latest[change.pk] = change.new
    for item in latest.values():
        if item is not None and "name" in item and schema.index_attributes_missing(item):
            if schema.add_index_attributes(item["name"], item.get("cuisine", "")):
                schema.add_cuisines({shown_text(item.get("cuisine", ""))})  # a list's cuisine is its text
    invalidation.table_changed(changes)


def records_apply(records: list[dict]) -> None:
    """The records of a stream event as a Lambda receives them."""
    changes_apply([streams.change_from_record(record) for record in records])


def skipped_replay() -> list[tuple[streams.Skipped, str | None]]:
    """Apply every record kept as skipped again, with today's code: each one
    applied is forgotten, each one that fails again is kept. A record whose
    images still cannot be decoded is replayed from its item as the table
    holds it now (an operator may have mended it). Returns each record with
    the error that kept it (None: applied). Raises ``Unavailable``/``CacheDown``."""
    results: list[tuple[streams.Skipped, str | None]] = []
    for skipped in streams.skipped_records():
        change = streams.change_from_record(skipped.record) if skipped.record is not None else None
        if change is None or change.unreadable is not None:
            change = streams.change_of_stored_item(skipped.sequence, skipped.pk, skipped.sk)
        try:
            if change.new is None and change.old is None:  # the item is gone: its item_keys are all there is
                invalidation.keys_changed(change.pk, change.sk)
            else:
                _apply([change])
        except TRANSIENT_ERRORS:
            raise
        except Exception as error:  # noqa: BLE001  (reported to the operator, and kept)
            results.append((skipped, f"{type(error).__name__}: {error}"))
            continue
        streams.skipped_delete(skipped)
        results.append((skipped, None))
    return results


def retire_everything(reason: str) -> None:
    """When the stream cannot say what changed: every page and cached datum
    (never sessions). Raises ``CacheDown`` if Redis fails."""
    if not settings.CACHE_ENABLED:
        return
    log.warning("Retiring every cache: %s.", reason)
    with redis_or_fallback(always_try=True):
        flush.flush(flush.SCOPES["all"])


@dataclass
class _ShardState:
    shard: Shard
    applied: str | None  # the last sequence number applied (and so, once saved, our checkpoint)
    iterator: str | None = None
    pending: list[ItemChange] = field(default_factory=list)  # read, not applied yet
    drained: bool = False  # closed, and every record of it read
    unsaved: bool = False  # applied further than the stored checkpoint


class StreamFollower:
    """Reads every shard of the table's stream and applies what it finds.

    ``poll`` makes one pass (a batch per readable shard) and returns how many
    records it read (plus the shards it finished); ``run`` polls until stopped. Errors leave everything
    read but not applied in memory, to be applied by a later pass."""

    def __init__(
        self,
        *,
        apply: Callable[[list[ItemChange]], None] = changes_apply,
        on_gap: Callable[[str], None] = retire_everything,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.apply = apply
        self.on_gap = on_gap
        self.clock = clock
        self.stream: Stream | None = None
        self.states: dict[str, _ShardState] = {}
        self.finished: set[str] = set()
        self._saved: dict[str, str | None] = {}  # checkpoints of shards not listed yet in this process
        self._iterators: dict[str, str] = {}  # where a first start reads the open shards from
        self.listed_ids: set[str] = set()
        self.listed_at: float | None = None
        self.applied_changes = 0  # changes applied since start, our own checkpoints left out

    # --- one pass ------------------------------------------------------------

    def poll(self) -> int:
        if self.stream is None or self.listed_at is None or self.clock() - self.listed_at >= SHARD_LIST_SECONDS:
            self._list_shards()
        read = 0
        for state in self._readable():
            read += self._advance(state)
        return read

    def _list_shards(self) -> None:
        stream = streams.table_stream()
        if stream != self.stream:
            self._start(stream)
        listed = streams.shards(stream)
        self.listed_ids = {shard.id for shard in listed}
        for shard in listed:
            if shard.id in self.finished:
                continue
            if shard.id in self.states:
                self.states[shard.id].shard = shard
            else:
                state = _ShardState(shard, applied=self._saved.pop(shard.id, None))
                state.iterator = self._iterators.pop(shard.id, None)
                self.states[shard.id] = state
        # A shard we had begun that the stream no longer holds: its last records are lost.
        gone = [shard_id for shard_id in [*self.states, *self._saved] if shard_id not in self.listed_ids]
        if gone:
            self.on_gap(f"shard {gone[0]} was trimmed before we finished reading it")
            for shard_id in gone:
                self.states.pop(shard_id, None)
                self._saved.pop(shard_id, None)
                self.finished.add(shard_id)
        self.listed_at = self.clock()

    def _start(self, stream: Stream) -> None:
        """A stream we have not read in this process: resume where we stopped."""
        saved = streams.checkpoints(stream)
        self._iterators = {}
        if not saved:
            saved = self._first_start(stream)
        elif self.stream is not None:
            self.on_gap(f"the table's stream changed to {stream.label}")
        self.stream = stream
        self.states = {}
        self.finished = {shard_id for shard_id, checkpoint in saved.items() if checkpoint.finished}
        self._saved = {
            shard_id: checkpoint.sequence for shard_id, checkpoint in saved.items() if not checkpoint.finished
        }
        log.info("Following stream %s (%d shards finished before).", stream.label, len(self.finished))

    def _first_start(self, stream: Stream) -> dict[str, streams.Checkpoint]:
        """No position stored for this stream: what changed before now is
        unknown, so every cache is retired, and what the stream holds already
        (the demo data's 22,240 records on a first ``make run``, up to 24 hours
        on AWS) need not be read. The open shards are read from their newest
        record on, taken *before* the caches are emptied, so a write in
        between is read; closed shards are finished."""
        listed = streams.shards(stream)
        self._iterators = {
            shard.id: streams.shard_iterator(stream, shard.id, after=None, latest=True)
            for shard in listed
            if not shard.closed
        }
        self.on_gap(f"first start on stream {stream.label}")
        for shard in listed:  # so that the next start resumes instead (from the oldest record, until one is applied)
            streams.checkpoint_save(stream, shard.id, sequence=None, finished=shard.closed)
        return {shard.id: streams.Checkpoint(shard.id, None, shard.closed) for shard in listed}

    def _readable(self) -> list[_ShardState]:
        """Shards to read now: not finished, and whose parent (if the stream
        still holds it) is finished, so an item's changes come in order."""
        return [
            state
            for state in self.states.values()
            if state.shard.id not in self.finished
            and (
                state.shard.parent_id is None
                or state.shard.parent_id in self.finished
                or state.shard.parent_id not in self.listed_ids
            )
        ]

    def _advance(self, state: _ShardState) -> int:
        read = 0
        if not state.pending and not state.drained:
            read = self._read(state)
        if state.pending:
            self.apply(state.pending)
            applied = sum(1 for change in state.pending if not change.is_own_checkpoint)
            if applied:
                log.debug("Applied %d changes from shard %s.", applied, state.shard.id)
            self.applied_changes += applied
            # Our own checkpoint writes come back as records: saving after
            # those alone would write another, forever.
            state.unsaved |= any(not change.is_own_checkpoint for change in state.pending)
            state.applied = state.pending[-1].sequence
            state.pending = []
        if state.unsaved or state.drained:
            streams.checkpoint_save(self.stream, state.shard.id, sequence=state.applied, finished=state.drained)
            state.unsaved = False
            if state.drained:
                self.finished.add(state.shard.id)
                del self.states[state.shard.id]
                self.listed_at = None  # look for its children now
                return read + 1  # progress, even if its last read was empty: the caller polls again
        return read

    def _read(self, state: _ShardState) -> int:
        for _ in range(2):  # once more with a new iterator, if the one we had is of no use
            try:
                if state.iterator is None:
                    state.iterator = streams.shard_iterator(self.stream, state.shard.id, after=state.applied)
                records, state.iterator = streams.read_records(state.iterator)
            except IteratorExpired:
                state.iterator = None  # unused for 15 minutes (a long outage): resume after `applied`
                continue
            except RecordsTrimmed:
                self.on_gap(f"records of shard {state.shard.id} after {state.applied} were trimmed")
                state.applied, state.iterator = None, None  # from the oldest record the shard still has
                continue
            state.pending = records
            state.drained = state.iterator is None
            return len(records)
        return 0

    # --- the loop --------------------------------------------------------------

    def run(self, stop: threading.Event, *, interval: float) -> None:
        """Poll until ``stop`` is set: again at once while there are records,
        every ``interval`` seconds once caught up, backing off while DynamoDB
        or Redis fail (nothing read is lost meanwhile)."""
        failures, caught_up = 0, False
        while not stop.is_set():
            try:
                read = self.poll()
            except NotFound as error:  # the stream was disabled, a shard or the table is gone
                self.listed_at = None
                failures += 1
                log.warning("%s", error)
                stop.wait(NOT_FOUND_RETRY_SECONDS)
                continue
            except (DataError, CacheDown) as error:
                failures += 1
                delay = min(interval * 2**failures, MAX_BACKOFF_SECONDS)
                if failures % WARN_EVERY_FAILURES == 1:
                    log.warning("Cannot apply the stream's changes yet (%s); trying again in %.1f s.", error, delay)
                stop.wait(delay)
                continue
            if failures:
                log.info("Applying the stream's changes again.")
                failures = 0
            if not read:
                if not caught_up:
                    caught_up = True
                    log.info(
                        "Caught up with the stream (%d changes applied); polling every %.1f s.",
                        self.applied_changes,
                        interval,
                    )
                stop.wait(interval)

    def catch_up(self, *, max_passes: int = 10_000) -> int:
        """Poll until a pass reads nothing; errors are raised. Returns the
        number of passes (``follow_stream --once``, tests)."""
        for passes in range(1, max_passes + 1):
            if not self.poll():
                return passes
        return max_passes
