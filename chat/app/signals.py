"""
The server's signals: SIGINT and SIGTERM stop it, SIGHUP and SIGUSR1
reopen its log.
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from types import FrameType
from typing import Any


class Signals:
    """
    The signals of a server on C{reactor}: what they ask for is done in the
    reactor's thread, C{stop(name)} for SIGINT and SIGTERM, C{reopen(signal)}
    for SIGHUP and SIGUSR1 (which also rotates twistd's own log, as it would
    without the server).
    """

    def __init__(
        self,
        reactor: Any,
        stop: Callable[[str], None],
        reopen: Callable[[signal.Signals], None],
    ) -> None:
        self._reactor = reactor
        self._stop = stop
        self._reopen = reopen
        self._twistdRotation: Any = None

    def take(self) -> None:
        """
        Take the signals, before the first listener listens: one that comes
        while the server starts is handled once the reactor runs, as any
        other, and does not end the process outright.
        """
        self.takeStop()
        signal.signal(signal.SIGHUP, self._onReopen)
        self._twistdRotation = signal.signal(signal.SIGUSR1, self._onReopen)

    def takeStop(self) -> None:
        """
        Take SIGINT and SIGTERM (again, once the reactor runs: it puts
        Twisted's own in their place as it starts).  Twisted's handlers make
        twistd kill itself with the signal once the reactor has stopped (exit
        status -15 for SIGTERM); a server that shut down cleanly exits 0
        instead, whatever signals arrive while it does.  The handlers stay
        until the process ends, so a second signal cannot reach Twisted's.
        """
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, self._onStop)

    def _onStop(self, signum: int, frame: FrameType | None) -> None:
        self._reactor.callFromThread(self._stop, signal.Signals(signum).name)

    def _onReopen(self, signum: int, frame: FrameType | None) -> None:
        self._reactor.callFromThread(self._reopen, signal.Signals(signum))
        if signum == signal.SIGUSR1 and callable(self._twistdRotation):
            self._twistdRotation(signum, frame)
