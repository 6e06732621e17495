"""
The start-up relay: the chat protocol with the standard library alone, on a
listening socket, in a thread, until the server is ready to take over.

It relays as the server does: ids from the one given, arrival, relay and
leave notices, one C{\\r} before a C{\\n} removed, a partial line relayed
as a whole one when its sender goes, lines longer than the maximum cut in
pieces of that length, and no limit on what is held for a client that does
not read (as C{--sendq 0}).  As the C binary does, it accepts every
connection waiting to be accepted before it relays what it read from a
client: a client whose C{connect()} returned before a line was sent
receives that line.  The server's own code cannot be used here: importing
it is what takes the time.
"""

from __future__ import annotations

import _thread
import os
import select
import socket
import time

from chat.core import wire

READ_SIZE = 65536
"""Bytes read from a client at once, as the reactor reads."""

_IN = select.POLLIN
_OUT = select.POLLOUT
_ENDED = select.POLLHUP | select.POLLERR | select.POLLNVAL


class Client:
    """
    A client of the start-up relay: its socket, id, unfinished input and
    output not yet sent.
    """

    __slots__ = ("socket", "clientId", "unread", "unsent", "_prefix")

    def __init__(self, connection: socket.socket, clientId: int) -> None:
        self.socket = connection
        self.clientId = clientId
        self.unread = b""
        self.unsent = bytearray()
        self._prefix = wire.linePrefix(clientId)

    def frame(self, lines: list[bytes]) -> bytes:
        """What every other client receives for C{lines} from this one."""
        separator = wire.DELIMITER + self._prefix
        return self._prefix + separator.join(lines) + wire.DELIMITER


def completeLines(client: Client, data: bytes, maxLine: int) -> list[bytes]:
    """
    Add C{data} to what C{client} sent and return the lines it completes,
    CR-free and cut to C{maxLine}, then the leading pieces of a partial line
    longer than C{maxLine}; the rest stays in C{client.unread}.
    """
    data = client.unread + data
    end = data.rfind(b"\n") + 1
    lines = data[:end].replace(b"\r\n", b"\n").split(b"\n")[:-1]
    pending = data[end:]
    # A trailing \r may be dropped by a \n yet to come: do not count it.
    content = len(pending) - pending.endswith(b"\r")
    whole = (content - 1) // maxLine * maxLine if content > maxLine else 0
    if whole:
        lines.append(pending[:whole])
    client.unread = pending[whole:]
    return [piece for line in lines for piece in pieces(line, maxLine)]


def pieces(line: bytes, size: int) -> list[bytes]:
    """C{line} cut in pieces of C{size} bytes; an empty line stays one."""
    return [line[start : start + size] for start in range(0, len(line), size)] or [line]


class StartupRelay:
    """
    Relays between the clients of C{listener} in a thread of its own until
    L{stop}.

    @ivar clients: the connected clients by id, in the order they came.
    @ivar nextId: the id the next client will have.
    @ivar events: what happened, in order, for the log, each with the time
        it happened (as L{time.time}, taken before any client is told), and
        what L{chat.core.events} logs it with: C{(when, "listening", "tcp", address)},
        C{(when, "connected", clientId, peer)}, C{(when, "relayed",
        clientId, lines, recipients)}, C{(when, "disconnected", clientId,
        why)}.
    """

    def __init__(self, listener: socket.socket, maxLine: int) -> None:
        self.listener = listener
        self.maxLine = maxLine
        self.clients: dict[int, Client] = {}
        self.nextId = 0
        self.events: list[tuple[object, ...]] = []
        self._byFd: dict[int, Client] = {}
        self._poll = select.poll()
        self._wake, self._waker = os.pipe()
        self._done = _thread.allocate_lock()

    def start(self, listeningSince: float) -> None:
        """
        Serve in a new thread; the listener has listened since
        C{listeningSince}.
        """
        host, port = self.listener.getsockname()
        self.events.append((listeningSince, "listening", "tcp", f"{host}:{port}"))
        self.listener.setblocking(False)
        self._poll.register(self.listener.fileno(), _IN)
        self._poll.register(self._wake, _IN)
        self._done.acquire()
        _thread.start_new_thread(self._run, ())

    def stop(self) -> None:
        """
        Stop serving once the thread has finished what it is doing, and
        return when it has: the clients are then the caller's.
        """
        os.write(self._waker, b"x")
        self._done.acquire()
        os.close(self._wake)
        os.close(self._waker)

    def _run(self) -> None:
        try:
            while self._serveOnce():
                pass
        finally:
            self._done.release()

    def _serveOnce(self) -> bool:
        ready = self._poll.poll()
        if any(fd == self._wake for fd, _ in ready):
            return False
        for fd, events in ready:
            if fd == self.listener.fileno():
                self._acceptWaiting()
            elif fd in self._byFd:
                self._service(self._byFd[fd], events)
        return True

    def _acceptWaiting(self) -> None:
        """
        Accept every connection the kernel has completed, so that each is
        in the room before what is read next is relayed.
        """
        while True:
            try:
                connection, (host, port) = self.listener.accept()
            except ConnectionAbortedError:  # gone before it was accepted
                continue
            except OSError:  # no more, or out of files: the server will see
                return
            self._join(connection, f"{host}:{port}")

    def _join(self, connection: socket.socket, peer: str) -> None:
        connection.setblocking(False)
        fd = connection.fileno()
        client = Client(connection, self.nextId)
        self.nextId += 1
        self.events.append((time.time(), "connected", client.clientId, peer))
        self._broadcast(wire.arrived(client.clientId), client)
        self.clients[client.clientId] = client
        self._byFd[fd] = client
        self._poll.register(fd, _IN)

    def _service(self, client: Client, events: int) -> None:
        if events & _OUT:
            self._write(client)
        if events & (_IN | _ENDED) and client.clientId in self.clients:
            self._read(client)

    def _read(self, client: Client) -> None:
        try:
            data = client.socket.recv(READ_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as failed:
            data, why = b"", failed.strerror or "connection lost"
        else:
            why = "connection closed cleanly"
        # Whoever had connected when this was sent is to receive it, and may
        # have connected since the poll returned: they are accepted first.
        self._acceptWaiting()
        if data:
            self._relay(client, completeLines(client, data, self.maxLine))
        else:
            self._leave(client, why)

    def _relay(self, client: Client, lines: list[bytes]) -> None:
        if lines:
            recipients = len(self.clients) - 1
            event = (time.time(), "relayed", client.clientId, lines, recipients)
            self.events.append(event)
            self._broadcast(client.frame(lines), client)

    def _leave(self, client: Client, why: str) -> None:
        if client.unread:
            rest, client.unread = client.unread, b""
            self._relay(client, completeLines(client, rest + b"\n", self.maxLine))
        del self.clients[client.clientId]
        fd = client.socket.fileno()
        del self._byFd[fd]
        self._poll.unregister(fd)
        client.socket.close()
        self.events.append((time.time(), "disconnected", client.clientId, why))
        self._broadcast(wire.left(client.clientId), client)

    def _broadcast(self, data: bytes, origin: Client) -> None:
        for client in list(self.clients.values()):
            if client is not origin:
                self._send(client, data)

    def _send(self, client: Client, data: bytes) -> None:
        if client.unsent:
            client.unsent += data
            return
        try:
            sent = client.socket.send(data)
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError:  # gone: its reading will say so
            return
        if sent < len(data):
            client.unsent += data[sent:]
            self._poll.modify(client.socket.fileno(), _IN | _OUT)

    def _write(self, client: Client) -> None:
        try:
            sent = client.socket.send(client.unsent)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            client.unsent.clear()
            sent = 0
        del client.unsent[:sent]
        if not client.unsent:
            self._poll.modify(client.socket.fileno(), _IN)
