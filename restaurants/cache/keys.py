"""The one place for Redis key formats.

Keys that belong to one restaurant carry the hash tag ``{restaurant:<name>}``
so that multi-key commands on them stay in one cluster slot.
"""

import hashlib


def _digest(value: str) -> str:
    # Names and IPs can be long or hold any character; a digest keeps keys short and safe.
    return hashlib.sha256(value.encode()).hexdigest()[:32]


def login_failures_by_username_key(username: str) -> str:
    return f"ratelimit:login:user:{_digest(username.lower())}"


def login_failures_by_ip_key(ip: str) -> str:
    return f"ratelimit:login:ip:{_digest(ip)}"
