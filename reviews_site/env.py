"""Typed readers for environment variables (used by settings only).

Each reader notes the name it was asked for, so ``names_read()`` is the list
of every variable the settings depend on, kept by the settings themselves:
``make run`` hands exactly those to a second shell (``var/local.env``), and a
variable added to the settings needs no second list kept by hand.
"""

import os

# Insertion-ordered set of the names asked for so far in this process.
_names_read: dict[str, None] = {}


def _get(name: str) -> str | None:
    _names_read.setdefault(name)
    return os.environ.get(name)


def names_read() -> list[str]:
    """Every variable the settings have read in this process, in the order read."""
    return list(_names_read)


def env_str(name: str, default: str = "") -> str:
    value = _get(name)
    return default if value is None else value


def env_bool(name: str, default: bool = False) -> bool:
    value = _get(name)
    if value is None:
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def env_int(name: str, default: int) -> int:
    value = _get(name)
    return int(value) if value not in (None, "") else default


def env_float(name: str, default: float) -> float:
    value = _get(name)
    return float(value) if value not in (None, "") else default


def env_list(name: str, default: str = "") -> list[str]:
    value = _get(name)
    return [part.strip() for part in (default if value is None else value).split(",") if part.strip()]
