"""A TCP relay in front of a real peer, to give it the faults of a real network:
a delay before each connection is relayed (a slow, hanging archive), or every
connection refused (an archive that is down), switched while the test runs.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time

from tests.peers.ports import free_port

RELAY_CHUNK = 65536


class TcpProxy:
    def __init__(self, target_port: int, *, delay: float = 0.0) -> None:
        self.target_port = target_port
        self.port = free_port()
        self.delay = delay
        self.refusing = False
        self.connections = 0
        self._server: socket.socket | None = None
        self._stop = threading.Event()

    def start(self) -> None:
        server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", self.port))
        server.listen(64)
        server.settimeout(0.2)
        self._server = server
        threading.Thread(target=self._accept, daemon=True, name="tcp-proxy").start()

    def stop(self) -> None:
        self._stop.set()
        if self._server is not None:
            self._server.close()

    def _accept(self) -> None:
        assert self._server is not None
        while not self._stop.is_set():
            try:
                client, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if self.refusing:
                client.close()
                continue
            self.connections += 1
            threading.Thread(target=self._relay, args=(client,), daemon=True).start()

    def _relay(self, client: socket.socket) -> None:
        time.sleep(self.delay)
        try:
            upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=10)
        except OSError:
            client.close()
            return
        upstream.settimeout(None)

        def pipe(source: socket.socket, sink: socket.socket) -> None:
            try:
                while data := source.recv(RELAY_CHUNK):
                    sink.sendall(data)
            except OSError:
                pass
            finally:
                for one in (source, sink):
                    with contextlib.suppress(OSError):
                        one.shutdown(socket.SHUT_RDWR)

        threading.Thread(target=pipe, args=(upstream, client), daemon=True).start()
        pipe(client, upstream)
        client.close()
        upstream.close()
