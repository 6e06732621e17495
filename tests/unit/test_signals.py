"""
The service's signals: taken before the first listener listens, so that a
signal that comes while the server starts is handled as any other.
"""

from __future__ import annotations

import shutil
import signal
import tempfile
from collections.abc import Callable
from pathlib import Path

from twisted.internet.testing import MemoryReactorClock
from twisted.trial.unittest import SynchronousTestCase

from chat.app.options import Options
from chat.app.tap import makeService

SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGUSR1)


class Reactor(MemoryReactorClock):
    """A reactor that does not run: what signals hand it waits."""

    def __init__(self) -> None:
        super().__init__()
        self.fromThreads: list[tuple[Callable[..., object], tuple[object, ...]]] = []

    def callFromThread(self, f: Callable[..., object], *args: object) -> None:
        self.fromThreads.append((f, args))


class StartTests(SynchronousTestCase):
    def setUp(self) -> None:
        kept = {signum: signal.getsignal(signum) for signum in SIGNALS}
        for signum, handler in kept.items():
            self.addCleanup(signal.signal, signum, handler)

    def test_signalsTakenBeforeListening(self) -> None:
        """
        Once the privileged start has bound the listeners, SIGTERM and the
        others are the service's, before the reactor runs: a SIGTERM then
        stops the reactor once it runs, it does not kill the process.
        """
        options = Options()
        where = Path(tempfile.mkdtemp())
        self.addCleanup(shutil.rmtree, where)
        log = where / "mini_serv.log"
        options.parseOptions(["--port", "0", "--logfile", str(log)])
        reactor = Reactor()
        service = makeService(options, reactor=reactor)
        service.privilegedStartService()
        self.addCleanup(service.closeLog)
        self.assertEqual(len(reactor.tcpServers), 1)
        handler = signal.getsignal(signal.SIGTERM)
        assert callable(handler)
        handler(signal.SIGTERM, None)
        ((stop, args),) = reactor.fromThreads
        stop(*args)
        self.assertTrue(reactor.hasStopped)
