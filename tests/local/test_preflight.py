"""``make run`` says it runs already, or that its port is taken, before it
installs anything: the check runs first, with the system's Python (here
with no site-packages at all, ``-S``: the standard library only)."""

import fcntl
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PREFLIGHT = ROOT / "devtools" / "preflight.py"


def _preflight(port: int, var: Path) -> subprocess.CompletedProcess:
    command = [sys.executable, "-I", "-S", str(PREFLIGHT), "--port", str(port), "--var-dir", str(var)]
    return subprocess.run(command, capture_output=True, text=True, timeout=30, cwd="/")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_free_port_and_no_run_pass(tmp_path):
    assert _preflight(_free_port(), tmp_path).returncode == 0


def test_a_busy_port_is_named(tmp_path):
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        done = _preflight(port, tmp_path)
    assert done.returncode == 1 and f"Port {port} is in use" in done.stderr


def test_a_run_holding_the_folder_is_named(tmp_path):
    with (tmp_path / "run.lock").open("a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        held.write("4242\n")
        held.flush()
        done = _preflight(_free_port(), tmp_path)
    assert done.returncode == 1 and "already running in this folder (process 4242)" in done.stderr
    assert _preflight(_free_port(), tmp_path).returncode == 0  # released: a killed run leaves no lock


def test_make_run_checks_before_it_installs():
    command = ["make", "--no-print-directory", "-n", "run"]
    planned = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=30).stdout
    steps = [line for line in planned.splitlines() if not line.startswith("make")]
    assert steps[0].endswith("devtools/preflight.py --port 8000")
