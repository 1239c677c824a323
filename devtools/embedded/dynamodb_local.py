"""AWS's own DynamoDB Local, as a child process: the embedded database.

DynamoDB Local is AWS's implementation of the DynamoDB API on SQLite. It is
what ``make run`` serves the site from and what the integration and browser
tests talk to, because it was written by AWS against DynamoDB's own rules
(validation, transactions, condition checks, streams) where moto is a mock.

It is a Java program. The first use resolves it and its dependencies from
Maven Central with ``mvn`` (``dynamodb-local.pom.xml``) into
``.dynamodb-local/`` (ignored by git, like ``.venv``), once; later starts take
about two seconds. ``-sharedDb`` makes every access key and region see one
database, as one AWS account would. With ``db_path`` the data live in SQLite
files there and survive any kind of exit (each write is committed before it
is answered); without it the database is in memory.

It listens on 127.0.0.1 only. DynamoDB Local itself has no bind option and
listens on every interface, which with the well-known local keys would let
anyone on the network read and write the table (password hashes included).
``LoopbackDynamoDBLocal.java`` starts it through its own command-line entry
point but sets the listener's host to loopback first. It is compiled once
with ``javac`` into ``.dynamodb-local/`` (named by a hash of its source, so an
edit recompiles): a JDK is needed, not only a JRE.
"""

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from restaurants.waiting import wait_until

from .processes import die_with_parent, free_port, stop_process

VERSION = "3.1.0"
LAUNCHER = Path(__file__).with_name("LoopbackDynamoDBLocal.java")
HOST = "127.0.0.1"
ROOT = Path(__file__).resolve().parents[2]
HOME = Path(os.environ.get("DYNAMODB_LOCAL_HOME") or ROOT / ".dynamodb-local")
POM = Path(__file__).with_name("dynamodb-local.pom.xml")
START_TIMEOUT = 60
# The jars (48 MB) and, on a machine without a Maven cache, Maven's own plugins.
FETCH_SIZE = "about 50 MB, once"
# A step that runs longer says so this often (make run is never silent for longer).
STILL_EVERY_SECONDS = 5


def _to_stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


class DynamoDBLocalUnavailable(RuntimeError):
    """No Java runtime (or no Maven to fetch the jar): DynamoDB Local cannot run here."""


class DynamoDBLocalError(RuntimeError):
    """DynamoDB Local was found but did not start."""


def java_executable() -> str | None:
    return shutil.which("java")


def library_dir(home: Path = HOME, say: Callable[[str], None] = _to_stderr) -> Path:
    """The folder of jars (and sqlite4java's native libraries), fetched if missing."""
    lib = home / f"lib-{VERSION}"
    if (lib / f"DynamoDBLocal-{VERSION}.jar").exists():
        return lib
    home.mkdir(parents=True, exist_ok=True)
    # Two test workers may start at once: one fetches, the other waits for it.
    with (home / ".fetch.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (lib / f"DynamoDBLocal-{VERSION}.jar").exists():
            _fetch(lib, say)
    return lib


def launcher_dir(lib: Path, home: Path = HOME, say: Callable[[str], None] = _to_stderr) -> Path:
    """The compiled loopback launcher, compiled once per version of its source."""
    digest = hashlib.sha256(LAUNCHER.read_bytes()).hexdigest()[:12]
    classes = home / f"launcher-{digest}"
    if (classes / f"{LAUNCHER.stem}.class").exists():
        return classes
    with (home / ".fetch.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (classes / f"{LAUNCHER.stem}.class").exists():
            say(f"Compiling {LAUNCHER.name} (javac, once)...")
            _compile_launcher(lib, classes, say)
    return classes


def _compile_launcher(lib: Path, classes: Path, say: Callable[[str], None]) -> None:
    javac = shutil.which("javac")
    if javac is None:
        raise DynamoDBLocalUnavailable("a JDK (javac) is needed to keep DynamoDB Local on loopback; none is installed")
    partial = Path(tempfile.mkdtemp(prefix="launcher-", dir=classes.parent))
    command = [javac, "-cp", f"{lib}/*", "-d", str(partial), str(LAUNCHER)]
    result = _run_saying(command, "compiling", say, timeout=120)
    if result.returncode != 0:
        shutil.rmtree(partial, ignore_errors=True)
        raise DynamoDBLocalError(f"javac could not compile {LAUNCHER.name}: {result.stderr[-2000:]}")
    partial.rename(classes)  # whole or not at all


def _fetch(lib: Path, say: Callable[[str], None]) -> None:
    maven = shutil.which("mvn")
    if maven is None:
        raise DynamoDBLocalUnavailable("Maven (mvn) is needed once to fetch DynamoDB Local, and none is installed")
    partial = Path(tempfile.mkdtemp(prefix="lib-", dir=lib.parent))
    command = [maven, "-q", "-B", "-f", str(POM), "dependency:copy-dependencies", f"-DoutputDirectory={partial}"]
    say(f"Fetching DynamoDB Local {VERSION} and its libraries from Maven Central with mvn ({FETCH_SIZE})...")
    result = _run_saying(command, "fetching", say, timeout=600)
    if result.returncode == 0:
        say(f"Fetched DynamoDB Local {VERSION} into {lib}")
    if result.returncode != 0 or not (partial / f"DynamoDBLocal-{VERSION}.jar").exists():
        shutil.rmtree(partial, ignore_errors=True)
        raise DynamoDBLocalUnavailable(f"Maven could not fetch DynamoDB Local {VERSION}: {result.stdout[-2000:]}")
    partial.rename(lib)  # whole or not at all


def _run_saying(
    command: list[str], doing: str, say: Callable[[str], None], *, timeout: float
) -> subprocess.CompletedProcess:
    """``subprocess.run(command, capture_output=True, text=True)``, saying
    "still <doing>" every ``STILL_EVERY_SECONDS`` while it runs."""
    started = time.monotonic()
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as process:
        while True:
            try:
                stdout, stderr = process.communicate(timeout=STILL_EVERY_SECONDS)
                break
            except subprocess.TimeoutExpired:
                elapsed = time.monotonic() - started
                if elapsed > timeout:
                    process.kill()
                    process.communicate()
                    raise
                say(f"  still {doing} ({elapsed:.0f} s)")
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


@dataclass
class DynamoDBLocal:
    """A running DynamoDB Local; ``stop()`` ends it."""

    process: subprocess.Popen
    port: int
    db_path: Path | None
    log_path: Path

    kind = f"DynamoDB Local {VERSION}"

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def persistent(self) -> bool:
        return self.db_path is not None

    def stop(self, timeout: float = 10) -> None:
        stop_process(self.process, timeout)

    def __enter__(self) -> "DynamoDBLocal":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def start_dynamodb_local(
    port: int = 0,
    db_path: str | os.PathLike | None = None,
    *,
    timeout: float = START_TIMEOUT,
    say: Callable[[str], None] | None = None,
) -> DynamoDBLocal:
    """Start DynamoDB Local on 127.0.0.1:``port`` (0 picks a free one) and wait
    until it answers. The first start fetches and compiles, and ``say``s so
    (on stderr by default)."""
    say = say or _to_stderr
    java = java_executable()
    if java is None:
        raise DynamoDBLocalUnavailable("no Java runtime (java) is installed")
    lib = library_dir(say=say)
    chosen_port = port or free_port()
    classpath = f"{lib}/*{os.pathsep}{launcher_dir(lib, say=say)}"
    command = [java, f"-Djava.library.path={lib}", "-cp", classpath, LAUNCHER.stem, "-port", str(chosen_port)]
    command += ["-sharedDb"]
    if db_path is not None:
        directory = Path(db_path).resolve()
        directory.mkdir(parents=True, exist_ok=True)
        command += ["-dbPath", str(directory)]
        log_path = directory / "dynamodb-local.log"
    else:
        directory = None
        command += ["-inMemory"]
        handle, name = tempfile.mkstemp(prefix="dynamodb-local-", suffix=".log")
        os.close(handle)
        log_path = Path(name)
    with log_path.open("a") as log:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a Ctrl-C reaches only our orchestrator
            preexec_fn=die_with_parent,
            cwd=directory or lib.parent,  # it writes a metadata file where it runs
        )
    server = DynamoDBLocal(process, chosen_port, directory, log_path)
    _wait_until_answering(server, timeout)
    return server


def _wait_until_answering(server: DynamoDBLocal, timeout: float) -> None:
    """Any HTTP answer (DynamoDB says 400 to a bare GET) means it is serving."""

    def answers() -> bool:
        if server.process.poll() is not None:
            raise DynamoDBLocalError(f"DynamoDB Local exited with {server.process.returncode}: {_tail(server)}")
        try:
            urllib.request.urlopen(server.url, timeout=1).close()
        except urllib.error.HTTPError:
            pass  # an answer all the same
        return True

    try:
        wait_until(answers, timeout=timeout, every=0.05, what="DynamoDB Local", ignoring=(OSError,))
    except TimeoutError:
        server.stop()
        raise DynamoDBLocalError(
            f"DynamoDB Local did not answer on {server.url} in {timeout:.0f}s: {_tail(server)}"
        ) from None


def _tail(server: DynamoDBLocal, lines: int = 15) -> str:
    try:
        return "\n".join(server.log_path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
