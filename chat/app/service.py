"""
The server as a twistd service: the room's listeners, its log, its shutdown.
"""

from __future__ import annotations

import os
import signal
import stat
import sys
from contextlib import suppress
from typing import Any, NoReturn

from twisted.application import strports
from twisted.application.service import MultiService
from twisted.internet import error
from twisted.internet.address import UNIXAddress
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import (
    IListeningPort,
    IProtocolFactory,
    IStreamServerEndpoint,
)
from twisted.internet.task import LoopingCall
from twisted.logger import (
    FilteringLogObserver,
    ILogObserver,
    LogLevel,
    LogLevelFilterPredicate,
    LogPublisher,
    globalLogPublisher,
)
from zope.interface import implementer

from chat.app.log import LogFileObserver, openLog
from chat.app.owner import ProcessOwner
from chat.app.signals import Signals
from chat.core import events
from chat.core.addresses import describeAddress
from chat.core.limits import raiseOpenFileLimit
from chat.core.room import ChatRoom
from chat.core.text import plural

FLUSH_INTERVAL = 1.0
"""Seconds between writes of the buffered log to its file."""

SPARE_FILES = 64
"""Open files the server needs besides its clients: listeners, log, ..."""

OTHERS_CONNECT = stat.S_IWOTH
"""The bit of a UNIX socket's mode that lets any local user connect to it."""


@implementer(IStreamServerEndpoint)
class AnnouncedEndpoint:
    """
    An endpoint that logs the address it listens on once it does, so that
    C{--port 0} tells which port it got, and the kind of listener given by
    C{description}.  C{what} says what is served there, when it is not the
    room itself.  A UNIX socket that every local user may connect to gets a
    warning.
    """

    def __init__(
        self,
        endpoint: IStreamServerEndpoint,
        room: ChatRoom,
        description: str,
        what: str = "",
    ) -> None:
        self._endpoint = endpoint
        self._room = room
        self._tls = description.partition(":")[0].strip().lower() == "ssl"
        self._what = what

    def listen(self, factory: IProtocolFactory) -> Deferred[IListeningPort]:
        return self._endpoint.listen(factory).addCallback(self._announce)

    def _announce(self, port: IListeningPort) -> IListeningPort:
        address = port.getHost()
        if isinstance(address, UNIXAddress) and address.name:
            path = os.fsdecode(address.name)
            events.listening(self._room.log, "unix", path, self._what)
            self._checkMode(path)
        else:
            kind = "ssl" if self._tls else "tcp"
            events.listening(self._room.log, kind, describeAddress(address), self._what)
        return port

    def _checkMode(self, path: str) -> None:
        """Warn when every local user may connect to the socket at C{path}."""
        with suppress(OSError):  # an abstract socket has no file
            mode = stat.S_IMODE(os.stat(path).st_mode)
            if mode & OTHERS_CONNECT:
                self._room.log.warn(
                    "unix socket {path} is open to every local user (mode {mode:o}):"
                    " give it mode=660 or less in --listen",
                    category="start",
                    path=path,
                    mode=mode,
                )


class ChatService(MultiService):
    """
    The chat server: a L{ChatRoom} behind one listener per endpoint
    description, with the log it writes to.

    The log observer belongs to this service: it is attached before the
    listeners start and detached after they have stopped and the clients have
    gone, so that the file sees the whole life of the server.  The room logs
    to a publisher of its own; errors that Twisted logs globally (tracebacks
    among them) are copied to the file as well.

    With C{logOwner} (twistd's C{--uid}), the log file is given to that
    user as soon as it is opened, so that SIGHUP can open it again.
    """

    def __init__(
        self,
        room: ChatRoom,
        publisher: LogPublisher,
        logPath: str,
        logLevel: LogLevel,
        reactor: Any,
        handleSignals: bool = True,
        logFormat: str = "text",
        logOwner: ProcessOwner | None = None,
    ) -> None:
        super().__init__()
        self.room = room
        self._publisher = publisher
        self._logPath = logPath
        self._logLevel = logLevel
        self._logFormat = logFormat
        self._logOwner = logOwner
        self._reactor = reactor
        self._signals = Signals(reactor, self._stopReactor, self._reopen)
        self._handleSignals = handleSignals
        self._file: LogFileObserver | None = None
        self._observers: list[tuple[LogPublisher, ILogObserver]] = []
        self._flusher = LoopingCall(self._flush)
        self._flusher.clock = reactor
        self._twistdRotation: Any = None
        room.logRelays = logLevel <= LogLevel.info

    def listenOn(
        self,
        description: str,
        factory: IProtocolFactory | None = None,
        what: str = "",
    ) -> None:
        """
        Listen on the endpoint C{description} once the service starts, for
        C{factory}, the room's TCP door by default; C{what} says in the log
        what listens when it is not the room (C{"web"}).
        """
        listener = strports.service(
            description, factory or self.room.door, reactor=self._reactor
        )
        listener.endpoint = AnnouncedEndpoint(
            listener.endpoint, self.room, description, what
        )
        listener.setServiceParent(self)

    def privilegedStartService(self) -> None:
        if self._handleSignals:
            self._signals.take()
        try:
            self.openLog()
        except OSError as failed:
            _refuse(f"--logfile: cannot write {self._logPath!r}: {failed.strerror}")
        self._handOverLog()
        self._raiseOpenFileLimit()
        try:
            super().privilegedStartService()
        except Exception as failed:  # a busy port, a bad address, no permission
            self.room.log.error("{failed}", category="start", failed=failed)
            self.closeLog()
            _refuse(str(failed))

    def startService(self) -> None:
        self.openLog()
        super().startService()
        self._flusher.start(FLUSH_INTERVAL)  # at once: the start is in the file
        self.room.peers.start()
        if self._handleSignals:
            self._reactor.callWhenRunning(self._signals.takeStop)

    def stopService(self) -> Deferred[None]:
        self.room.log.info(
            "shutting down, {clients} connected",
            category="stop",
            count=len(self.room.clients),
            clients=plural(len(self.room.clients), "client"),
        )
        if self._flusher.running:
            self._flusher.stop()
        stopped: Deferred[Any] = Deferred.fromCoroutine(self._stop())
        return stopped

    async def _stop(self) -> None:
        try:
            await super().stopService()
            await self.room.shutDown()
            await self.room.peers.stop()
            self.room.log.info("stopped", category="stop")
        finally:
            self.closeLog()

    def _handOverLog(self) -> None:
        """Give the log file to the user the server is about to run as."""
        owner = self._logOwner
        if owner is None or self._logPath == "-":
            return
        try:
            owner.takeLog(self._logPath, self.room.log)
        except OSError as failed:
            self.closeLog()
            _refuse(
                f"--logfile: cannot give {self._logPath!r} to uid {owner.uid}:"
                f" {failed.strerror}"
            )

    def _raiseOpenFileLimit(self) -> None:
        maxClients = self.room.limits.maxClients
        needed = maxClients + SPARE_FILES
        soft, hard = raiseOpenFileLimit(needed)
        if soft < needed:
            self.room.log.warn(
                "open-file limit {soft} (hard limit {hard}) is less than the {needed}"
                " that {maxClients} clients need; connections past it are refused",
                category="start",
                soft=soft,
                hard=hard,
                needed=needed,
                maxClients=maxClients,
            )

    def openLog(self) -> None:
        """
        Open the log file, unless it is open: the file is created here, at
        the start of the service, and not while options are parsed.

        @raise OSError: it cannot be opened for writing.
        """
        if self._file is not None:
            return
        self._file = LogFileObserver(
            openLog(self._logPath),
            level=self._logLevel,
            format=self._logFormat,
            onError=self._logFailed,
        )
        self._observe(self._publisher, self._file)
        # Twisted's own warnings and errors, and what its TCP ports say about
        # listening and running out of file descriptors, go to the file too.
        twisted = LogLevelFilterPredicate(max(self._logLevel, LogLevel.warn))
        twisted.setLogLevelForNamespace("twisted.internet.tcp", self._logLevel)
        self._observe(globalLogPublisher, FilteringLogObserver(self._file, [twisted]))

    def _observe(self, publisher: LogPublisher, observer: ILogObserver) -> None:
        publisher.addObserver(observer)
        self._observers.append((publisher, observer))

    def closeLog(self) -> None:
        """Detach the log file from the logs, and close it."""
        while self._observers:
            publisher, observer = self._observers.pop()
            publisher.removeObserver(observer)
        if self._file is not None:
            self._file.close()
            self._file = None

    def _flush(self) -> None:
        if self._file is not None:
            self._file.flush()

    def _logFailed(self, failed: OSError) -> None:
        print(
            f"twistd chat: cannot write the log {self._logPath!r}: {failed.strerror};"
            " serving on, logging what the file takes",
            file=sys.__stderr__,
        )

    def _reopenLog(self, signalName: str) -> None:
        """
        Write what is buffered to the log file, then open its path again:
        after C{mv} or logrotate, later lines go to a new file.
        """
        if self._file is None or self._logPath == "-":
            return
        try:
            stream = openLog(self._logPath)
        except OSError as failed:
            self.room.log.error(
                "received {signal}, cannot reopen the log: {why}; writing on to"
                " the old file",
                category="log",
                signal=signalName,
                why=failed.strerror,
            )
            return
        self._file.reopen(stream)
        self.room.log.info(
            "received {signal}, reopened the log", category="log", signal=signalName
        )

    def _reopen(self, signum: signal.Signals) -> None:
        """
        SIGHUP and SIGUSR1 reopen the log; SIGHUP also has the room read its
        files again (the password file).
        """
        self._reopenLog(signum.name)
        if signum == signal.SIGHUP:
            self.room.reload()

    def _stopReactor(self, signalName: str) -> None:
        self.room.log.info("received {signal}", category="stop", signal=signalName)
        with suppress(error.ReactorNotRunning):  # a second signal
            self._reactor.stop()


def _refuse(message: str) -> NoReturn:
    """
    End C{twistd} with C{message} on the terminal, and status 1.

    twistd has sent C{sys.stderr} to its own log by now: the user's terminal
    is the original one.
    """
    print(f"twistd chat: error: {message}", file=sys.__stderr__)
    raise SystemExit(1)
