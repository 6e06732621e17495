"""
The options of C{twistd chat}, their checks, and the service they make.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from twisted.application.internet import StreamServerEndpointService
from twisted.internet.testing import MemoryReactor
from twisted.logger import LogLevel
from twisted.trial.unittest import SynchronousTestCase

from chat.app import parsing
from chat.app.options import Options
from chat.app.service import AnnouncedEndpoint
from chat.app.tap import makeService
from chat.cluster.peers import ClusterPeers
from chat.core.limits import Limits
from chat.core.peers import LocalPeers
from chat.core.values import BadValueError


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
        """
        Without options, the server listens on 127.0.0.1 port 8080 (one TCP
        endpoint, backlog 1024), logs at level info to C{mini_serv.log},
        relays lines of up to 64 KiB in one piece, and has the default
        limits.
        """
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
        """
        C{--port} and C{--interface} make the one TCP endpoint, an IPv6
        interface quoted as an endpoint description needs.
        """
        options = parse("--port", "0", "--interface", "::1")
        self.assertEqual(options["endpoints"], ["tcp:0:interface=\\:\\:1:backlog=1024"])

    def test_listenRepeatableAndReplacesPort(self) -> None:
        """
        C{--listen} may be given more than once; its endpoints, in order,
        replace the one that C{--port} makes.
        """
        options = parse(
            "--port", "1", "--listen", "tcp:2", "--listen", "unix:chat.sock"
        )
        self.assertEqual(options["endpoints"], ["tcp:2", "unix:chat.sock"])

    def test_limits(self) -> None:
        """
        Each limit option sets its field of L{Limits}, sizes read with their
        unit (C{64K}, C{1k}); C{--backlog} goes into the endpoint.
        """
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
        """C{--sendq 0} is accepted, as a hard SendQ limit of 0: no SendQ limits."""
        self.assertEqual(parse("--sendq", "0")["limits"].sendqHard, 0)

    def test_sendqAloneLowersTheSoftLimit(self) -> None:
        """
        C{--sendq} below the default soft limit, without C{--sendq-soft},
        takes the soft limit down with it; above it, the default stays.
        """
        limits = parse("--sendq", "1K")["limits"]
        self.assertEqual((limits.sendqHard, limits.sendqSoft), (1024, 1024))
        limits = parse("--sendq", "1G")["limits"]
        self.assertEqual((limits.sendqHard, limits.sendqSoft), (1 << 30, 8 << 20))
        limits = parse("--sendq", "0")["limits"]
        self.assertEqual(limits.sendqSoft, Limits().sendqSoft)

    def test_softAboveHardNamesSoft(self) -> None:
        """
        A C{--sendq-soft} above C{--sendq} is refused in one line naming
        C{--sendq-soft}.
        """
        self.assertBad("--sendq-soft", "--sendq", "1K", "--sendq-soft", "2K")

    def test_badLimits(self) -> None:
        """
        Each limit option refuses, in one line naming it, what is not an
        ASCII number within its bounds: words, unknown units, negative
        numbers, zero where one is the least, inf and nan, numbers too
        large, and the digits of other scripts.
        """
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
            ("--backlog", "99999999999999999999999"),
            ("--max-clients", "²"),
            ("--max-line", "\uff11"),  # a full-width 1
            ("--sendq", "99999999999999999999999G"),
            ("--idle-timeout", "1e400"),
            ("--flood-rate", "\u0663"),  # an Arabic-Indic 3, which float() takes
        ]:
            self.assertBad(option, option, value)

    def test_levels(self) -> None:
        """C{--log-level} takes the name of a level, in capitals or not."""
        self.assertEqual(parse("--log-level", "WARN")["log-level"], LogLevel.warn)
        self.assertEqual(parse("--log-level", "debug")["log-level"], LogLevel.debug)

    def assertBad(self, option: str, *arguments: str) -> str:
        """
        Parsing C{arguments} ends the command with one line naming
        C{option}; return that line.
        """
        with self.assertRaises(SystemExit) as raised:
            parse(*arguments)
        message = str(raised.exception.code)
        self.assertIn(option, message)
        self.assertNotIn("\n", message)
        self.assertTrue(message.startswith("twistd chat: error: "), message)
        return message

    def test_badPorts(self) -> None:
        """
        A C{--port} that is not a whole number from 0 to 65535 is refused in
        one line naming it.
        """
        for value in ("abc", "70000", "-1", "", "8080x", "65536"):
            self.assertBad("--port", "--port", value)

    def test_badInterface(self) -> None:
        """
        An C{--interface} that is not an IP address is refused in one line
        naming it.
        """
        self.assertBad("--interface", "--interface", "nowhere")

    def test_badLevel(self) -> None:
        """A C{--log-level} that names no level is refused in one line naming it."""
        self.assertBad("--log-level", "--log-level", "loud")

    def test_badMaxLine(self) -> None:
        """
        A C{--max-line} that is not a whole number of at least 1 is refused
        in one line naming it.
        """
        for value in ("0", "many", "-5"):
            self.assertBad("--max-line", "--max-line", value)

    def test_badListen(self) -> None:
        """
        A C{--listen} of an unknown kind of endpoint, with a port that is
        not a number, or naming a TLS key file that does not exist is
        refused in one line naming it.
        """
        self.assertBad("--listen", "--listen", "carrier-pigeon:42")
        self.assertBad("--listen", "--listen", "tcp:notaport")
        self.assertBad("--listen", "--listen", "ssl:6697:privateKey=missing.pem")

    def test_listenPortOutOfRange(self) -> None:
        """
        A C{--listen} port past 65535 or not in ASCII digits, given by
        position or by keyword, for TCP, TCP6 or TLS, is refused with the
        range in the message.
        """
        for description in ("tcp:99999", "tcp:port=65536", "ssl:70000", "tcp6:²"):
            message = self.assertBad("--listen", "--listen", description)
            self.assertIn("(0-65535)", message)

    def test_webHostWithoutWeb(self) -> None:
        """--web-host has no effect without --web: a one-line error."""
        message = self.assertBad("--web-host", "--web-host", "chat.example.org")
        self.assertIn("without --web", message)

    def test_badWebHost(self) -> None:
        """A --web-host is a name or address, without a port."""
        self.assertBad("--web-host", "--web", "tcp:0", "--web-host", "example.org:80")

    def test_listenUnixWithoutPath(self) -> None:
        """
        A UNIX C{--listen} without a path is refused as having no socket
        path, the message free of Python's notation for bytes.
        """
        message = self.assertBad("--listen", "--listen", "unix:")
        self.assertIn("no socket path", message)
        self.assertNotIn("b''", message)

    def test_listenUnixInMissingDirectory(self) -> None:
        """
        A UNIX socket in a directory that does not exist is refused, naming
        that directory rather than the lock file kept beside the socket.
        """
        message = self.assertBad("--listen", "--listen", "unix:/nonexistent/dir/sock")
        self.assertIn("no directory '/nonexistent/dir'", message)
        self.assertNotIn(".lock", message)

    def test_listenUnixInExistingDirectory(self) -> None:
        """
        A UNIX socket in a directory that exists is accepted, its
        description kept as written.
        """
        options = parse("--listen", "unix:address=chat.sock:mode=600")
        self.assertEqual(options["endpoints"], ["unix:address=chat.sock:mode=600"])

    def test_unwritableLogfile(self) -> None:
        """
        A C{--logfile} that cannot be written, in a missing directory or
        itself a directory, is refused in one line naming it.
        """
        self.assertBad("--logfile", "--logfile", "no/such/dir/chat.log")
        os.mkdir("directory")
        self.assertBad("--logfile", "--logfile", "directory")

    def test_parsingCreatesNoFile(self) -> None:
        """
        Parsing, with or without C{--logfile}, creates no file: the log file
        is checked, not opened.
        """
        parse("--logfile", "chat.log")
        parse()
        self.assertEqual(os.listdir("."), [])

    def test_redisAndRoom(self) -> None:
        """
        Without C{--redis} there is no cluster and the room is C{main}; a
        C{--redis} address is completed with the default port and database,
        and C{--room} names the room.
        """
        self.assertIsNone(parse()["redis"])
        self.assertEqual(parse()["room"], "main")
        options = parse("--redis", "redis://localhost", "--room", "lobby")
        self.assertEqual(options["redis"], "redis://localhost:6379/0")
        self.assertEqual(options["room"], "lobby")

    def test_badRedisAndRoom(self) -> None:
        """
        A C{--redis} that is not a C{redis://} address with a numeric port
        and database, and a C{--room} that is empty or holds white space,
        are refused in one line naming the option.
        """
        for value in ("localhost:6379", "redis://h:port", "redis://h/db"):
            self.assertBad("--redis", "--redis", value)
        for value in ("", "two words", "tab\there"):
            message = self.assertBad(
                "--room", "--redis", "redis://localhost", "--room", value
            )
            self.assertIn("is not a name", message)

    def test_optionsWithoutWhatTheyNeed(self) -> None:
        """
        C{--room} without C{--redis}, C{--web-origin} without C{--web}: one
        line naming the option and the one it needs; with it, accepted.
        """
        for arguments, needed in [
            (("--room", "lobby"), "--redis"),
            (("--web-origin", "https://chat.example.org"), "--web"),
        ]:
            message = self.assertBad(arguments[0], *arguments)
            self.assertTrue(
                message.endswith(f"{arguments[0]}: has no effect without {needed}"),
                message,
            )
        options = parse("--web", "tcp:0", "--web-origin", "https://chat.example.org")
        self.assertEqual(options["web-origins"], ["https://chat.example.org"])

    def test_unknownOption(self) -> None:
        """An unknown option is refused in one line naming it."""
        self.assertBad("--colour", "--colour", "blue")


class WebAndMetricsOptionsTests(SynchronousTestCase):
    """Where the web sites listen, and which hosts they serve."""

    def test_loopbackByDefault(self) -> None:
        """
        --web and --metrics on TCP or TLS without an interface bind
        loopback, as --port does; one given is kept.
        """
        options = parse(
            "--web",
            "tcp:8081",
            "--web",
            "tcp6:8082",
            "--web",
            "tcp:8083:interface=0.0.0.0",
            "--web",
            "unix:chat.sock",
            "--metrics",
            "tcp:port=9100",
        )
        self.assertEqual(
            options["web"],
            [
                "tcp:8081:interface=127.0.0.1",
                "tcp6:8082:interface=\\:\\:1",
                "tcp:8083:interface=0.0.0.0",
                "unix:chat.sock",
            ],
        )
        self.assertEqual(options["metrics"], "tcp:port=9100:interface=127.0.0.1")

    def test_listenAsWritten(self) -> None:
        """--listen is a Twisted endpoint description as Twisted reads it."""
        self.assertEqual(parse("--listen", "tcp:6667")["endpoints"], ["tcp:6667"])

    def test_webHosts(self) -> None:
        """--web-host is repeatable; its names are kept in one form."""
        options = parse(
            "--web", "tcp:0", "--web-host", "Chat.Example.org", "--web-host", "[::1]"
        )
        self.assertEqual(options["web-hosts"], ["chat.example.org", "::1"])


class ParsingTests(SynchronousTestCase):
    """
    The helpers every command line uses: ASCII digits only, an upper bound
    on everything, one line naming the option.
    """

    def assertBad(self, option: str, check: object, *arguments: object) -> str:
        with self.assertRaises(BadValueError) as raised:
            check(option, *arguments)  # type: ignore[operator]
        message = str(raised.exception)
        self.assertTrue(message.startswith(option + ": "), message)
        self.assertNotIn("\n", message)
        return message

    def test_wholeNumber(self) -> None:
        """
        L{parsing.wholeNumber} takes ASCII digits alone, within its bounds
        (0 to 2147483647 by default); signs, spaces, decimals, other digits
        and a number below the least are refused, and one thousands of
        digits long is refused with the range.
        """
        self.assertEqual(parsing.wholeNumber("--n", "0"), 0)
        self.assertEqual(parsing.wholeNumber("--n", "2147483647"), 2147483647)
        self.assertEqual(parsing.wholeNumber("--n", "7", 2, 7), 7)
        for text in ("", "-1", "+1", " 1", "1.0", "\u00b2", "\uff11", "2147483648"):
            self.assertBad("--n", parsing.wholeNumber, text)
        self.assertBad("--n", parsing.wholeNumber, "1", 2)
        message = self.assertBad("--n", parsing.wholeNumber, "9" * 5000)
        self.assertIn("from 0 to 2147483647", message)

    def test_port(self) -> None:
        """
        L{parsing.port} takes 0 to 65535, or from a least given; numbers
        past the range, other digits, a sign or hexadecimal are refused with
        the range in the message.
        """
        self.assertEqual(parsing.port("--p", "0"), 0)
        self.assertEqual(parsing.port("--p", "65535"), 65535)
        for text in ("65536", "99999", "\u00b2", "-0", "0x50"):
            self.assertIn("(0-65535)", self.assertBad("--p", parsing.port, text))
        self.assertIn("(1-65535)", self.assertBad("--p", parsing.port, "0", 1))

    def test_size(self) -> None:
        """
        L{parsing.size} takes bytes, or K, M or G of them (C{64k} too), up
        to 1024G; no number, C{T}, fractions, negative numbers, other digits
        and huge numbers are refused.
        """
        self.assertEqual(parsing.size("--s", "0"), 0)
        self.assertEqual(parsing.size("--s", "64k"), 65536)
        self.assertEqual(parsing.size("--s", "32M"), 32 << 20)
        self.assertEqual(parsing.size("--s", "1024G"), 1 << 40)
        for text in ("", "K", "1T", "1.5M", "-1", "1025G", "\u00b2K", "9" * 30):
            self.assertBad("--s", parsing.size, text)

    def test_decimal(self) -> None:
        """
        L{parsing.decimal} takes plain decimals (C{.25} too) within its
        bounds; no digits, signs, inf, nan, exponents, underscores, other
        digits and numbers past a float's range are refused.
        """
        self.assertEqual(parsing.decimal("--d", "2"), 2.0)
        self.assertEqual(parsing.decimal("--d", "0.5"), 0.5)
        self.assertEqual(parsing.decimal("--d", ".25"), 0.25)
        for text in ("", ".", "-1", "inf", "nan", "1e3", "1_0", "\u0663", "1e400"):
            self.assertBad("--d", parsing.decimal, text)
        self.assertBad("--d", parsing.decimal, "0", 0.1)
        self.assertBad("--d", parsing.decimal, "2", 0, 1)

    def test_hostAndPort(self) -> None:
        """
        L{parsing.hostAndPort} splits C{HOST:PORT}, an IPv6 host in
        brackets; a missing host or port, and a port outside 1-65535 or not
        in ASCII digits, are refused.
        """
        self.assertEqual(parsing.hostAndPort("--t", "h:1"), ("h", 1))
        self.assertEqual(parsing.hostAndPort("--t", "[::1]:80"), ("::1", 80))
        for text in ("h", ":80", "h:0", "h:65536", "h:\u00b2"):
            self.assertBad("--t", parsing.hostAndPort, text)

    def test_endpointArguments(self) -> None:
        """
        L{parsing.endpointArguments} reads an endpoint description as
        Twisted does: its kind in lower case, then positional and keyword
        arguments, with escaped colons unescaped.
        """
        self.assertEqual(
            parsing.endpointArguments("TCP:80:interface=\\:\\:1"),
            ("tcp", ["80"], {"interface": "::1"}),
        )
        self.assertEqual(
            parsing.endpointArguments("unix:address=a\\:b:mode=600"),
            ("unix", [], {"address": "a:b", "mode": "600"}),
        )

    def test_writableFile(self) -> None:
        """
        L{parsing.writableFile} accepts a new file in a writable directory
        without creating it, and refuses a directory or a file in a
        directory that does not exist.
        """
        directory = Path(tempfile.mkdtemp())
        self.addCleanup(shutil.rmtree, directory)
        path = str(directory / "new.log")
        self.assertEqual(parsing.writableFile("--f", path), path)
        self.assertFalse(os.path.exists(path))
        self.assertIn("directory", self.assertBad("--f", parsing.writableFile, "/"))
        missing = str(directory / "missing" / "x.log")
        self.assertIn(
            "no directory", self.assertBad("--f", parsing.writableFile, missing)
        )


class MakeServiceTests(SynchronousTestCase):
    def test_oneListenerPerEndpoint(self) -> None:
        """
        The service listens on each endpoint, all through the room's door;
        the room gets the maximum line and the limits, logs no relays above
        level info, and without C{--redis} has peers of its own alone.
        """
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
            self.assertIs(listener.factory, service.room.door)
        self.assertEqual(service.room.maxLine, 100)
        self.assertEqual(service.room.limits.maxClients, 7)
        self.assertFalse(service.room.logRelays)
        self.assertIsInstance(service.room.peers, LocalPeers)

    def test_clusterNode(self) -> None:
        """With C{--redis}, the room's peers are those of a cluster."""
        options = Options()
        options.parseOptions(["--logfile", "-", "--redis", "redis://127.0.0.1:6379/1"])
        service = makeService(options, reactor=MemoryReactor())
        self.assertIsInstance(service.room.peers, ClusterPeers)
