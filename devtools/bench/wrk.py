"""Running wrk and reading its ``--latency`` report."""

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .web import BenchError

_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}
_PERCENTILE = re.compile(r"^\s*(50|99)(?:\.0+)?%\s+([\d.]+)(us|ms|s|m)\s*$", re.MULTILINE)
_RATE = re.compile(r"^Requests/sec:\s+([\d.]+)", re.MULTILINE)
_TOTAL = re.compile(r"^\s*(\d+) requests in", re.MULTILINE)
_NON_2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
_SOCKET_ERRORS = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")


@dataclass(frozen=True)
class WrkResult:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx: int
    errors: int  # connect, write and timeout errors (read errors are closed keep-alives)


def wrk_executable() -> str:
    found = shutil.which("wrk")
    if not found:
        raise BenchError("wrk is not installed: run `bash .ci/bench-deps` (or `make bench`)")
    return found


def run_wrk(
    url: str, *, seconds: float, connections: int, threads: int, headers: dict[str, str], save_to: Path | None = None
) -> WrkResult:
    """One wrk run; its raw report is kept in ``save_to`` when given."""
    command = [wrk_executable(), f"-t{threads}", f"-c{connections}", f"-d{seconds:g}s", "--latency", "--timeout", "30s"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    done = subprocess.run([*command, url], capture_output=True, text=True, timeout=seconds + 30)
    if done.returncode != 0:
        raise BenchError(f"wrk failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}")
    if save_to is not None:
        save_to.write_text(done.stdout)
    return parse_wrk(done.stdout)


def parse_wrk(output: str) -> WrkResult:
    percentiles = {int(p): float(value) * _UNITS_MS[unit] for p, value, unit in _PERCENTILE.findall(output)}
    rate, total = _RATE.search(output), _TOTAL.search(output)
    if rate is None or total is None or set(percentiles) != {50, 99}:
        raise BenchError(f"could not read wrk's report:\n{output}")
    non_2xx = _NON_2XX.search(output)
    socket_errors = _SOCKET_ERRORS.search(output)
    errors = 0
    if socket_errors:
        connect, _read, write, timeout = (int(n) for n in socket_errors.groups())
        errors = connect + write + timeout
    return WrkResult(
        requests_per_second=float(rate.group(1)),
        p50_ms=percentiles[50],
        p99_ms=percentiles[99],
        requests=int(total.group(1)),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        errors=errors,
    )
