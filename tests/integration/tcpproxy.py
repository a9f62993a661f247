"""A TCP proxy on loopback that can be cut, to give the product real network outages.

Clients connect to the proxy's port instead of the service's. ``cut()`` closes the
listening socket and every open connection: new connections are refused, open ones
break mid-request, exactly as when the service dies. ``restore()`` listens again on the
same port. With ``cut_on`` the proxy cuts itself the first time a client sends those
bytes (``b"INSERT INTO submissions"`` to PostgreSQL, ``b"PUT /"`` to S3), so the outage
starts at a known point of the product's work — here, the first publication.
"""

from __future__ import annotations

import socket
import threading
from contextlib import suppress

_CHUNK = 65536


class TcpProxy:
    def __init__(self, target_port: int, *, target_host: str = "127.0.0.1",
                 cut_on: bytes | None = None):
        self.target = (target_host, target_port)
        self.cut_on = cut_on
        self.cut_event = threading.Event()
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port: int = probe.getsockname()[1]
        probe.close()

    # ------------------------------------------------------------ control

    def start(self) -> TcpProxy:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return self

    def cut(self) -> None:
        with self._lock:
            listener, self._listener = self._listener, None
            open_sockets, self._sockets = self._sockets, set()
        for sock in [s for s in (listener,) if s] + list(open_sockets):
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with suppress(OSError):
                sock.close()
        self.cut_event.set()

    def restore(self) -> None:
        self.cut_on = None  # cut once only
        self.start()

    def close(self) -> None:
        self.cut_on = None
        self.cut()

    # ------------------------------------------------------------ plumbing

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # cut: the listener is closed
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            with self._lock:
                if self._listener is not listener:  # cut meanwhile
                    client.close()
                    upstream.close()
                    return
                self._sockets.update((client, upstream))
            threading.Thread(target=self._pump, args=(client, upstream, True),
                             daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False),
                             daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, from_client: bool) -> None:
        tail = b""
        try:
            while True:
                data = source.recv(_CHUNK)
                if not data:
                    break
                pattern = self.cut_on
                if from_client and pattern:
                    # Keep a tail so a pattern split across two reads is still seen.
                    if pattern in tail + data:
                        self.cut()
                        return
                    tail = (tail + data)[-len(pattern):]
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                with suppress(OSError):
                    sock.close()
            with self._lock:
                self._sockets.discard(source)
                self._sockets.discard(sink)
