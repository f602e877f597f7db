"""A TCP proxy for fault injection: forwards a free local port to a service and can cut it.

`cut()` closes every open connection and refuses new ones (each is accepted and closed at
once, as a service that just died would); `restore()` lets connections through again. Only
the processes pointed at the proxy see the outage: the service itself is never touched.
With `upload_rate` it is a slow link instead: what clients send passes at that many bytes per
second (answers go back at once), so an upload takes long enough to be interrupted.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import threading
import time
from types import TracebackType

from tests.support.platform import free_port


class TcpProxy:
    def __init__(
        self, target_port: int, target_host: str = "127.0.0.1", *, upload_rate: int | None = None
    ) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self.upload_rate = upload_rate
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if upload_rate is not None:
            # Small buffers: the client's count of bytes sent stays close to what passed here.
            self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32 * 1024)
        self._listener.bind(("127.0.0.1", self.port))
        self._listener.listen()
        self._listener.settimeout(0.2)
        self._lock = threading.Lock()
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._cut = False
        self._closed = threading.Event()
        self.accepted = 0
        self._thread = threading.Thread(target=self._accept, name="tcp-proxy", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url_for(self, url: str) -> str:
        """`url` with the target's host:port replaced by the proxy's."""
        host, port = self.target
        return url.replace(f"{host}:{port}", f"127.0.0.1:{self.port}")

    @property
    def is_cut(self) -> bool:
        return self._cut

    def cut(self) -> None:
        with self._lock:
            self._cut = True
            pairs, self._pairs = self._pairs, []
        for pair in pairs:
            for sock in pair:
                _close(sock)

    def restore(self) -> None:
        with self._lock:
            self._cut = False

    @property
    def open_connections(self) -> int:
        with self._lock:
            return len(self._pairs)

    def close(self) -> None:
        self._closed.set()
        self.cut()
        self._thread.join(5)
        _close(self._listener)

    def __enter__(self) -> TcpProxy:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if self._cut:
                _close(client)
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                _close(client)
                continue
            client.settimeout(None)
            upstream.settimeout(None)
            with self._lock:
                if self._cut:
                    _close(client)
                    _close(upstream)
                    continue
                self._pairs.append((client, upstream))
                self.accepted += 1
            threading.Thread(
                target=self._pump, args=(client, upstream), name="tcp-proxy-pump", daemon=True
            ).start()

    def _pump(self, client: socket.socket, upstream: socket.socket) -> None:
        peers = {client: upstream, upstream: client}
        with selectors.DefaultSelector() as selector:
            selector.register(client, selectors.EVENT_READ)
            selector.register(upstream, selectors.EVENT_READ)
            try:
                while True:
                    for key, _ in selector.select(timeout=0.5):
                        sock = key.fileobj
                        assert isinstance(sock, socket.socket)
                        slow = sock is client and self.upload_rate is not None
                        data = sock.recv(16 * 1024 if slow else 65536)
                        if not data:
                            return
                        peers[sock].sendall(data)
                        if slow:
                            time.sleep(len(data) / self.upload_rate)  # type: ignore[operator]
                    if client.fileno() < 0 or upstream.fileno() < 0:
                        return
            except (OSError, ValueError):
                return
            finally:
                with self._lock, contextlib.suppress(ValueError):
                    self._pairs.remove((client, upstream))
                _close(client)
                _close(upstream)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()
