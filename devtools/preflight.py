"""``make run``'s first step, before anything is installed: is it already
running in this folder, or is its port taken? Either is said at once, rather
than after minutes of installing. Standard library only (it runs with the
system's Python, before the virtualenv exists); ``run_local`` asks the same
questions through the same functions when it is started directly.

    python3 devtools/preflight.py --port 8000 [--var-dir var]
"""

import argparse
import fcntl
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: devtools/ is not on the path yet
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from devtools.embedded.processes import port_is_free  # noqa: E402 (after the path is set)

LOCK_NAME = "run.lock"


def running_elsewhere(var: Path) -> str | None:
    """Why ``make run`` cannot start in this folder now (it runs already), or None."""
    path = var / LOCK_NAME
    if not path.exists():
        return None
    with path.open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            pids = [line for line in handle.read().split() if line.isdigit()]
            holder = f" (process {pids[0]})" if pids else ""
            return f"make run is already running in this folder{holder}; stop it first."
        fcntl.flock(handle, fcntl.LOCK_UN)
    return None


def port_taken(port: int) -> str | None:
    """Why the web server cannot listen on ``port``, or None."""
    if port_is_free(port):
        return None
    return f"Port {port} is in use by another program: stop it, or choose another (PORT=9000 make run)."


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--var-dir", default=str(Path(__file__).resolve().parents[1] / "var"))
    arguments = parser.parse_args(argv)
    problem = running_elsewhere(Path(arguments.var_dir)) or port_taken(arguments.port)
    if problem:
        print(problem, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
