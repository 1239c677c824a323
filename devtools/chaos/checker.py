"""The checker: what the recorded history says about the site's promises.

1. *Lost*: a review its author was told was published (302 to the
   restaurant, or the "Done" page) that DynamoDB does not hold (nor a later
   write of theirs), holds twice, or counts other than it lists.
   *Untrue*: a write the author was told failed (503) that DynamoDB applied.
2. *Stale after recovery*: from 2 s after the last fault ends (and 2 s after
   a later write's confirmation), an anonymous page of a writer's review that
   shows neither their last confirmed write nor one they started after it.
3. *Stale HIT*: a page served from the cache (X-Cache HIT) 1 s or more
   after a write's confirmation that lacks it. The issue asks this while no
   fault is active; the rule above all asks it during faults too (a detached
   replica or a moved endpoint must not serve an older page once the write
   is confirmed), so those are counted too, apart ("stale HITs during a fault").
4. *5xx*: any status 500 or more but the site's explaining 503s (the session
   store or DynamoDB did not answer); *unanswered*: no HTTP answer at all.
5. *Recovery*: after the last fault, the share of anonymous answers served
   from the cache back to 70 % of its level before the faults, and an
   outside write (straight to DynamoDB, seen through ``follow_stream``) on
   the anonymous page within 2 s, both within 10 s.

Pure: a History in, a Verdict out.
"""

from dataclasses import dataclass, field

from .history import History, Seen, WriteRecord

AFTER_FAULTS_SECONDS = 2.0
HIT_AFTER_SECONDS = 1.0
RECOVERY_SECONDS = 10.0
NORMAL_LAG_SECONDS = 2.0
HIT_SHARE_OF_BASELINE = 0.7
RATIO_WINDOW_SECONDS = 2.0
RATIO_STEP_SECONDS = 0.5
RATIO_MIN_ANSWERS = 8
CONFIRMED = "confirmed"


@dataclass
class Recovery:
    seconds: float | None  # after the last fault; None: not back to normal by the end
    detail: str

    @property
    def failed(self) -> bool:
        return self.seconds is None or self.seconds > RECOVERY_SECONDS


@dataclass
class Verdict:
    faults_end: float
    lost: list[str] = field(default_factory=list)
    untrue: list[str] = field(default_factory=list)
    stale_after_recovery: list[str] = field(default_factory=list)
    stale_hits: list[str] = field(default_factory=list)
    stale_hits_in_faults: list[str] = field(default_factory=list)
    server_errors: list[str] = field(default_factory=list)
    unanswered: list[str] = field(default_factory=list)
    hit_ratio: Recovery = field(default_factory=lambda: Recovery(None, "not measured"))
    follower_lag: Recovery = field(default_factory=lambda: Recovery(None, "not measured"))

    def failures(self) -> dict[str, int]:
        counts = {
            "lost": len(self.lost),
            "untrue answers": len(self.untrue),
            "stale after recovery": len(self.stale_after_recovery),
            "stale HITs": len(self.stale_hits),
            "stale HITs during a fault": len(self.stale_hits_in_faults),
            "5xx": len(self.server_errors),
            "unanswered": len(self.unanswered),
            "hit ratio not recovered": int(self.hit_ratio.failed),
            "follower lag not recovered": int(self.follower_lag.failed),
        }
        return {name: count for name, count in counts.items() if count}

    @property
    def passed(self) -> bool:
        return not self.failures()


def check(history: History) -> Verdict:
    faults_end = max((f.ended for f in history.faults if f.ended is not None), default=history.meta["window_start"])
    verdict = Verdict(faults_end)
    by_writer: dict[str, list[WriteRecord]] = {}
    for write in sorted(history.writes, key=lambda write: write.number):
        by_writer.setdefault(write.writer, []).append(write)
    _stored(history, by_writer, verdict)
    active = [(f.started, f.ended if f.ended is not None else float("inf")) for f in history.faults if f.started]
    for seen in history.answers:
        _answer(seen, history, by_writer, active, verdict)
    verdict.hit_ratio = hit_ratio_recovery(history, faults_end)
    verdict.follower_lag = follower_lag_recovery(history, faults_end)
    return verdict


def _stored(history: History, by_writer: dict[str, list[WriteRecord]], verdict: Verdict) -> None:
    for stored in history.stored:
        writes = by_writer.get(stored.writer, [])
        confirmed = [write for write in writes if write.outcome == CONFIRMED]
        where = f"{stored.writer} on {stored.restaurant!r}"
        if confirmed:
            last = confirmed[-1]
            allowed = {write.text for write in writes if write.number >= last.number}
            if stored.text not in allowed:
                verdict.lost.append(
                    f"{where}: write {last.number} ({last.kind}, confirmed at {last.done:.1f}s: {last.detail}) "
                    f"{last.text!r}; DynamoDB holds {stored.text!r}"
                )
            if stored.items != 1:
                verdict.lost.append(f"{where}: {stored.items} review items of theirs listed, not one")
        if stored.review_count != stored.reviews_listed:
            verdict.lost.append(
                f"{where}: the restaurant counts {stored.review_count} reviews and lists {stored.reviews_listed}"
            )
        for write in writes:
            if write.outcome == "refused" and write.text == stored.text:
                verdict.untrue.append(
                    f"{where}: write {write.number} ({write.kind} at {write.started:.1f}s) was answered "
                    f"'{write.detail}', yet DynamoDB holds its text"
                )
    verdict.untrue += history.untrue


def _answer(seen: Seen, history, by_writer, active, verdict: Verdict) -> None:
    line = f"{seen.method} {seen.path} ({seen.who}) at {seen.at:.2f}s"
    if seen.status == 0:
        verdict.unanswered.append(f"{line}: {seen.excerpt}")
        return
    if seen.status >= 500 and not seen.explained:
        verdict.server_errors.append(f"{line} -> {seen.status}: {seen.excerpt}")
        return
    writer = history.pages.get(seen.path)
    if writer is None or seen.status != 200 or seen.method != "GET" or seen.who == "writer":
        return
    writes = by_writer.get(writer, [])
    late = _missing(seen, writes, ready=lambda write: max(write.done, verdict.faults_end) + AFTER_FAULTS_SECONDS)
    if late:
        verdict.stale_after_recovery.append(f"{line}, X-Cache {seen.cache or '-'}: {late}")
    if seen.cache == "HIT":
        stale = _missing(seen, writes, ready=lambda write: write.done + HIT_AFTER_SECONDS)
        quiet = not any(start < seen.at + seen.seconds and seen.at < end for start, end in active)
        if stale:
            (verdict.stale_hits if quiet else verdict.stale_hits_in_faults).append(f"{line}: {stale}")


def _missing(seen: Seen, writes: list[WriteRecord], *, ready) -> str:
    """Evidence if the page shows none of what its writer may show by then:
    the last confirmed write ready before the fetch, or any write started after it."""
    due = [write for write in writes if write.outcome == CONFIRMED and ready(write) <= seen.at]
    if not due:
        return ""
    last = due[-1]
    allowed = {last.text} | {w.text for w in writes if w.number > last.number and w.started < seen.at + seen.seconds}
    if allowed & set(seen.shows):
        return ""
    return (
        f"lacks {last.writer}'s write {last.number} {last.text!r} confirmed at {last.done:.2f}s; "
        f"shows {list(seen.shows) or 'none of the run reviews'}"
    )


def _hit_share(answers: list[Seen], start: float, end: float) -> tuple[float, int] | None:
    inside = [seen for seen in answers if start <= seen.at < end]
    if len(inside) < RATIO_MIN_ANSWERS:
        return None
    return sum(seen.cache == "HIT" for seen in inside) / len(inside), len(inside)


def hit_ratio_recovery(history: History, faults_end: float) -> Recovery:
    answers = [s for s in history.answers if s.who == "anonymous" and s.method == "GET" and s.status == 200]
    baseline = _hit_share(answers, history.meta["baseline_start"], history.meta["window_start"])
    if baseline is None:
        return Recovery(None, "too few anonymous answers before the faults to know the normal hit ratio")
    normal = baseline[0] * HIT_SHARE_OF_BASELINE
    shares = []
    start = faults_end
    while start + RATIO_WINDOW_SECONDS <= history.meta["load_end"]:
        share = _hit_share(answers, start, start + RATIO_WINDOW_SECONDS)
        if share is not None:
            shares.append((start, share[0]))
        start += RATIO_STEP_SECONDS
    recovered = None
    for at, share in reversed(shares):
        if share < normal:
            break
        recovered = at
    text = f"normal ≥ {normal:.0%} (before the faults {baseline[0]:.0%} of {baseline[1]})"
    if recovered is None:
        last = f"{shares[-1][1]:.0%}" if shares else "no window"
        return Recovery(None, f"{text}; not back by the end of the load (last window {last})")
    lowest = min((share for at, share in shares), default=0)
    return Recovery(recovered - faults_end, f"{text}; lowest 2 s window after the faults {lowest:.0%}")


def follower_lag_recovery(history: History, faults_end: float) -> Recovery:
    def lag(write) -> float:
        return float("inf") if write.seen is None else write.seen - write.done

    before = sorted(lag(write) for write in history.outside if write.done < history.meta["window_start"])
    after = sorted((write for write in history.outside if write.done >= faults_end), key=lambda write: write.done)
    usual = f"median before the faults {before[len(before) // 2]:.2f} s" if before else "none before the faults"
    if not after:
        return Recovery(None, f"no outside write after the faults ({usual})")
    bad = [write for write in after if lag(write) > NORMAL_LAG_SECONDS]
    worst = max(lag(write) for write in after)
    text = f"normal ≤ {NORMAL_LAG_SECONDS:g} s ({usual}); {len(after)} after the faults, slowest {worst:.2f} s"
    if not bad:
        return Recovery(0.0, text)
    following = [write for write in after if write.done > bad[-1].done]
    if not following:
        return Recovery(None, f"{text}; the last one not seen within {NORMAL_LAG_SECONDS:g} s")
    return Recovery(following[0].done - faults_end, text)
