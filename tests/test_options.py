"""
The options of C{twistd chat} and the service they make.
"""

from __future__ import annotations

import os
import shutil
import tempfile

from twisted.application.internet import StreamServerEndpointService
from twisted.internet.testing import MemoryReactor
from twisted.logger import LogLevel
from twisted.trial.unittest import SynchronousTestCase

from chat.cluster.bus import Bus
from chat.limits import Limits
from chat.room import ClusterRoom
from chat.service import AnnouncedEndpoint
from chat.tap import Options, makeService


def parse(*arguments: str) -> Options:
    options = Options()
    options.parseOptions(list(arguments))
    return options


class OptionsTests(SynchronousTestCase):
    def setUp(self) -> None:
        # Parse in an empty directory, to see that nothing is created.
        path = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, path)
        self.addCleanup(os.chdir, os.getcwd())
        os.chdir(path)

    def test_defaults(self) -> None:
        options = parse()
        self.assertEqual(options["port"], 8080)
        self.assertEqual(options["interface"], "127.0.0.1")
        self.assertEqual(options["logfile"], "mini_serv.log")
        self.assertEqual(options["log-level"], LogLevel.info)
        self.assertEqual(options["max-line"], 65536)
        self.assertEqual(
            options["endpoints"], ["tcp:8080:interface=127.0.0.1:backlog=1024"]
        )
        self.assertEqual(options["limits"], Limits())

    def test_portAndInterface(self) -> None:
        options = parse("--port", "0", "--interface", "::1")
        self.assertEqual(options["endpoints"], ["tcp:0:interface=\\:\\:1:backlog=1024"])

    def test_listenRepeatableAndReplacesPort(self) -> None:
        options = parse(
            "--port", "1", "--listen", "tcp:2", "--listen", "unix:chat.sock"
        )
        self.assertEqual(options["endpoints"], ["tcp:2", "unix:chat.sock"])

    def test_limits(self) -> None:
        options = parse(
            *("--sendq", "64K", "--sendq-soft", "1k", "--sendq-soft-seconds", "2.5"),
            *("--flood-rate", "20", "--flood-burst", "5", "--max-clients", "3"),
            *("--max-per-ip", "2", "--idle-timeout", "30", "--backlog", "4096"),
        )
        self.assertEqual(
            options["limits"],
            Limits(
                sendqHard=65536,
                sendqSoft=1024,
                sendqSoftSeconds=2.5,
                floodRate=20.0,
                floodBurst=5,
                maxClients=3,
                maxPerAddress=2,
                idleTimeout=30.0,
            ),
        )
        self.assertTrue(options["endpoints"][0].endswith(":backlog=4096"))

    def test_sendqZeroTurnsLimitsOff(self) -> None:
        self.assertEqual(parse("--sendq", "0")["limits"].sendqHard, 0)

    def test_badLimits(self) -> None:
        for option, value in [
            ("--sendq", "lots"),
            ("--sendq", "32X"),
            ("--sendq", "-1"),
            ("--sendq-soft", "64M"),
            ("--sendq-soft-seconds", "soon"),
            ("--flood-rate", "-3"),
            ("--flood-rate", "inf"),
            ("--flood-burst", "0"),
            ("--max-clients", "0"),
            ("--max-per-ip", "two"),
            ("--idle-timeout", "nan"),
            ("--backlog", "0"),
        ]:
            self.assertBad(option, option, value)

    def test_levels(self) -> None:
        self.assertEqual(parse("--log-level", "WARN")["log-level"], LogLevel.warn)
        self.assertEqual(parse("--log-level", "debug")["log-level"], LogLevel.debug)

    def assertBad(self, option: str, *arguments: str) -> None:
        with self.assertRaises(SystemExit) as raised:
            parse(*arguments)
        message = str(raised.exception.code)
        self.assertIn(option, message)
        self.assertNotIn("\n", message)
        self.assertTrue(message.startswith("twistd chat: error: "), message)

    def test_badPorts(self) -> None:
        for value in ("abc", "70000", "-1", "", "8080x", "65536"):
            self.assertBad("--port", "--port", value)

    def test_badInterface(self) -> None:
        self.assertBad("--interface", "--interface", "nowhere")

    def test_badLevel(self) -> None:
        self.assertBad("--log-level", "--log-level", "loud")

    def test_badMaxLine(self) -> None:
        for value in ("0", "many", "-5"):
            self.assertBad("--max-line", "--max-line", value)

    def test_badListen(self) -> None:
        self.assertBad("--listen", "--listen", "carrier-pigeon:42")
        self.assertBad("--listen", "--listen", "tcp:notaport")
        self.assertBad("--listen", "--listen", "ssl:6697:privateKey=missing.pem")

    def test_parsingCreatesNoFile(self) -> None:
        parse("--logfile", "chat.log")
        parse()
        self.assertEqual(os.listdir("."), [])

    def test_redisAndRoom(self) -> None:
        self.assertIsNone(parse()["redis"])
        self.assertEqual(parse()["room"], "main")
        options = parse("--redis", "redis://localhost", "--room", "lobby")
        self.assertEqual(options["redis"], "redis://localhost:6379/0")
        self.assertEqual(options["room"], "lobby")

    def test_badRedisAndRoom(self) -> None:
        for value in ("localhost:6379", "redis://h:port", "redis://h/db"):
            self.assertBad("--redis", "--redis", value)
        for value in ("", "two words", "tab\there"):
            self.assertBad("--room", "--room", value)

    def test_unknownOption(self) -> None:
        self.assertBad("--colour", "--colour", "blue")


class MakeServiceTests(SynchronousTestCase):
    def test_oneListenerPerEndpoint(self) -> None:
        options = Options()
        options.update(
            {
                "max-line": 100,
                "logfile": "-",
                "log-level": LogLevel.warn,
                "endpoints": ["tcp:0", "tcp:0:interface=127.0.0.1"],
                "limits": Limits(maxClients=7),
            }
        )
        service = makeService(options, reactor=MemoryReactor())
        listeners = list(service)
        self.assertEqual(len(listeners), 2)
        for listener in listeners:
            assert isinstance(listener, StreamServerEndpointService)
            self.assertIsInstance(listener.endpoint, AnnouncedEndpoint)
            self.assertIs(listener.factory, service.room)
        self.assertEqual(service.room.maxLine, 100)
        self.assertEqual(service.room.limits.maxClients, 7)
        self.assertFalse(service.room.logRelays)
        self.assertIsNone(service.cluster)

    def test_clusterNode(self) -> None:
        options = Options()
        options.parseOptions(["--logfile", "-", "--redis", "redis://127.0.0.1:6379/1"])
        service = makeService(options, reactor=MemoryReactor())
        self.assertIsInstance(service.room, ClusterRoom)
        self.assertIsInstance(service.cluster, Bus)
