"""
A load balancer for the tests: a loopback port whose connections are
forwarded, byte for byte, to the port of one node or another, as a
balancer in front of a cluster sends a reconnecting page anywhere.
"""

from __future__ import annotations

import contextlib
import socket
import threading

from tests.support.live import DEADLINE


class Forwarder:
    """
    Listens on L{port}; each connection it accepts is forwarded to
    C{target}, the port of the moment (L{switch}).
    """

    def __init__(self, target: int) -> None:
        self.target = target
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def switch(self, target: int) -> None:
        """Forward new connections to C{target}; cut the ones there are."""
        self.target = target
        with self._lock:
            cut, self._sockets = self._sockets, []
        for each in cut:
            with contextlib.suppress(OSError):
                each.shutdown(socket.SHUT_RDWR)
            each.close()

    def close(self) -> None:
        self._listener.close()
        self.switch(self.target)

    def _accept(self) -> None:
        while True:
            try:
                accepted, _ = self._listener.accept()
            except OSError:
                return  # closed
            try:
                onward = socket.create_connection(("127.0.0.1", self.target), DEADLINE)
            except OSError:
                accepted.close()
                continue
            onward.settimeout(None)
            with self._lock:
                self._sockets += [accepted, onward]
            for source, sink in ((accepted, onward), (onward, accepted)):
                threading.Thread(target=_pump, args=(source, sink), daemon=True).start()


def _pump(source: socket.socket, sink: socket.socket) -> None:
    """Copy what C{source} receives to C{sink} until either closes."""
    with contextlib.suppress(OSError):
        while chunk := source.recv(1 << 16):
            sink.sendall(chunk)
    for each in (source, sink):
        with contextlib.suppress(OSError):
            each.shutdown(socket.SHUT_RDWR)
