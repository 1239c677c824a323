"""A second shell beside ``make run``: ``python -m devtools.local_env <manage.py command> [args]``.

``make run`` starts DynamoDB Local and Redis on ports chosen at each start, with
the keys ``local``; a ``manage.py`` command run in another shell knows none of
that, reaches for real AWS and ends in a traceback ("Unable to locate
credentials"). ``make run`` writes what a second shell needs to
``var/local.env``. This reads that file, checks that the ``make run`` which
wrote it is still running (a file left by a killed run names ports nobody
listens on), and runs ``manage.py`` with that environment. ``make superuser``
is ``createsuperuser`` run this way.

Standard library only, and no Django: it runs before any settings are read.
"""

import argparse
import fcntl
import os
import shlex
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOT_RUNNING = "make run is not running in {root}: start it (make run), then run this again in a second shell."


def read_env_file(path: Path) -> dict[str, str]:
    """The ``export NAME=value`` lines ``run_local`` writes, as a dict."""
    env = {}
    for line in path.read_text().splitlines():
        words = shlex.split(line)
        if len(words) == 2 and words[0] == "export" and "=" in words[1]:
            name, value = words[1].split("=", 1)
            env[name] = value
    return env


def run_is_live(var: Path) -> bool:
    """Whether a ``make run`` holds its lock in ``var`` (the kernel releases it
    however that run ended). Asked with a shared lock, given back at once."""
    lock = var / "run.lock"
    if not lock.exists():
        return False
    with lock.open() as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
    return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--var-dir", type=Path, default=ROOT / "var", help="make run's folder (default var/)")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="a manage.py command and its arguments")
    options = parser.parse_args(argv)
    if not options.command:
        parser.error("name a manage.py command, e.g. createsuperuser")
    env_file = options.var_dir / "local.env"
    if not env_file.exists() or not run_is_live(options.var_dir):
        print(NOT_RUNNING.format(root=options.var_dir.parent), file=sys.stderr)
        return 1
    env = {**os.environ, **read_env_file(env_file)}
    os.chdir(ROOT)
    os.execve(sys.executable, [sys.executable, "manage.py", *options.command], env)
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main())
