"""Run a command, passing its output through, and say "still <doing> (N s)"
whenever it has printed nothing for 5 s: ``make run``'s pip step prints a line
per download, then unpacks for half a minute in silence (sympy, numpy,
matplotlib...). Standard library only: it runs with the system's Python.

    python3 devtools/heartbeat.py "installing the packages" -- pip install ...
"""

import queue
import subprocess
import sys
import threading
import time

SILENCE_SECONDS = 5.0


def run(doing: str, command: list[str], *, silence: float = SILENCE_SECONDS, out=sys.stdout) -> int:
    started = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    lines: queue.Queue[bytes | None] = queue.Queue()

    def read() -> None:
        for line in process.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    while True:
        try:
            line = lines.get(timeout=silence)
        except queue.Empty:
            out.write(f"  still {doing} ({time.monotonic() - started:.0f} s)\n")
            out.flush()
            continue
        if line is None:
            return process.wait()
        out.write(line.decode(errors="replace"))
        out.flush()


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] != "--":
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    try:
        return run(argv[0], argv[2:])
    except KeyboardInterrupt:  # the command got the Ctrl-C too
        return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
