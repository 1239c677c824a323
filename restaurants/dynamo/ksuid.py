"""Review ids in the lab's KSUID form: 40 lowercase hex characters.

The first 8 characters are the seconds since the KSUID epoch (1400000000) and
the other 32 are random, so ids sort by creation time and every new id sorts
after the lab's ids.
"""

import datetime as dt
import secrets

KSUID_EPOCH = 1_400_000_000


def new_ksuid(at: dt.datetime | None = None, *, payload: bytes | None = None) -> str:
    at = at or dt.datetime.now(dt.UTC)
    seconds = int(at.timestamp()) - KSUID_EPOCH
    payload = payload if payload is not None else secrets.token_bytes(16)
    return f"{seconds:08x}{payload.hex()}"


def ksuid_time(ksuid: str) -> dt.datetime:
    return dt.datetime.fromtimestamp(int(ksuid[:8], 16) + KSUID_EPOCH, dt.UTC)
