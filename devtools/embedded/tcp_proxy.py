"""A small TCP proxy on loopback, for fault tests: an endpoint that can move.

ElastiCache fails over by pointing the primary endpoint's DNS name at another
node; the connections clients already hold stay where they were. This proxy
does the same on 127.0.0.1: ``switch(port)`` sends new connections to
another server and leaves the open ones alone; ``cut()`` closes every open
connection (a node that died); ``refuse()`` makes new connections fail.
"""

import contextlib
import selectors
import socket
import threading


class TcpProxy:
    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self._targets = [target_port]
        self._turn = 0
        self._refusing = False
        self._lock = threading.Lock()
        self._pairs: set[tuple[socket.socket, socket.socket]] = set()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._stopped = threading.Event()
        self._flowing = threading.Event()
        self._flowing.set()
        self._thread = threading.Thread(target=self._accept_loop, name=f"tcp-proxy-{self.port}", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def switch(self, target_port: int, *more_ports: int) -> None:
        """New connections go to ``target_port`` (and ``more_ports``, in turn);
        open ones stay where they are."""
        with self._lock:
            self.target_port = target_port
            self._targets = [target_port, *more_ports]

    def cut(self) -> None:
        """Close every open connection, both ways."""
        with self._lock:
            pairs, self._pairs = self._pairs, set()
        for pair in pairs:
            for sock in pair:
                _close(sock)

    def refuse(self, refusing: bool = True) -> None:
        """While refusing, new connections are accepted and closed at once."""
        self._refusing = refusing

    def hold(self) -> None:
        """Forward nothing (either way) until ``release``; connections stay open."""
        self._flowing.clear()

    def release(self) -> None:
        self._flowing.set()

    def stop(self) -> None:
        self._stopped.set()
        self._flowing.set()
        _close(self._listener)
        self.cut()
        self._thread.join(timeout=5)

    def _accept_loop(self) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self._refusing:
                _close(client)
                continue
            with self._lock:
                self._turn += 1
                target = self._targets[self._turn % len(self._targets)]
            try:
                upstream = socket.create_connection(("127.0.0.1", target), timeout=5)
            except OSError:
                _close(client)
                continue
            upstream.settimeout(None)
            with self._lock:
                self._pairs.add((client, upstream))
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    def _pump(self, client: socket.socket, upstream: socket.socket) -> None:
        """Copy bytes both ways until either side closes."""
        peers = {client: upstream, upstream: client}
        with selectors.DefaultSelector() as selector:
            for sock in peers:
                selector.register(sock, selectors.EVENT_READ)
            try:
                while True:
                    for key, _ in selector.select():
                        self._flowing.wait()
                        data = key.fileobj.recv(65536)
                        if not data:
                            return
                        peers[key.fileobj].sendall(data)
            except (OSError, ValueError):
                return
            finally:
                with self._lock:
                    self._pairs.discard((client, upstream))
                _close(client)
                _close(upstream)

    def __enter__(self) -> "TcpProxy":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()
