"""Our Lua scripts, kept as files in ``lua/`` and run by name.

A script is code: it gets a file of its own (its first line says its KEYS,
ARGV and what it returns), so it is read, reviewed and diffed as Lua. Python
holds only its name and its arguments.

Each file is read once per process, when its module is imported (a missing or
broken include fails at start-up, not on the first write). A call goes by
EVALSHA, and only a server that does not know the script yet (NOSCRIPT: a new
server, a restart, SCRIPT FLUSH) is sent the source, by EVAL, which also loads
it there. On a cluster, redis-py routes the call by its keys: every key of one
call must share a hash tag, as the callers' keys do.

Redis has no ``require``: what several scripts share (bumping a generation,
the leaderboard's score) lives in a file named with a leading ``_`` and is
pasted in place of a line ``-- include: <name>``, so it is written once.
"""

import functools
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from redis.exceptions import NoScriptError

LUA_DIR = Path(__file__).resolve().with_name("lua")
_INCLUDE = re.compile(r"^-- include: (\S+)$", re.MULTILINE)


@functools.cache
def source(name: str) -> str:
    """The text of ``lua/<name>.lua``, its includes pasted in: what Redis runs."""
    text = (LUA_DIR / f"{name}.lua").read_text(encoding="utf-8")
    return _INCLUDE.sub(lambda include: source(include.group(1)), text)


@dataclass(frozen=True)
class LuaScript:
    """The script ``lua/<name>.lua``, run by SHA, loaded on first use (per server)."""

    name: str
    source: str = field(init=False, repr=False)
    sha: str = field(init=False, repr=False)

    def __post_init__(self):
        object.__setattr__(self, "source", source(self.name))
        object.__setattr__(self, "sha", hashlib.sha1(self.source.encode()).hexdigest())

    def __call__(self, client, keys: list[str], args: list) -> object:
        try:
            return client.evalsha(self.sha, len(keys), *keys, *args)
        except NoScriptError:
            return client.eval(self.source, len(keys), *keys, *args)
