"""
Logins (C{--auth FILE}): a connection is kept out of the
room, without an id, until it sends C{/login NAME PASSWORD}.

Passwords are checked through C{twisted.cred}: a L{Portal} with a checker
over the password file (L{PasswordFileChecker}, bcrypt hashes checked in a
thread, since each check takes a noticeable part of a second on purpose; a
name the file lacks is checked as long against a decoy).  The
L{Gatekeeper} runs the exchange with the connection: the timeout, the delay
before a failure is answered, the limit of failures per address, counted
before a password is checked.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable, Iterable
from typing import Any

import bcrypt
from twisted.cred.checkers import ICredentialsChecker
from twisted.cred.credentials import IUsernamePassword, UsernamePassword
from twisted.cred.error import UnauthorizedLogin
from twisted.cred.portal import IRealm, Portal
from twisted.internet.defer import Deferred, fail
from twisted.internet.interfaces import IDelayedCall, IReactorTime
from twisted.internet.threads import deferToThread
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import Interface, implementer

from chat.core import wire
from chat.core.addresses import describePeer, sourceOf
from chat.core.gate import Hold
from chat.core.interfaces import IClient, IMetrics, IStage
from chat.core.lines import TOO_LONG
from chat.core.lobby import UNNUMBERED
from chat.core.metrics import NO_METRICS
from chat.core.names import nickKey
from chat.core.text import printable
from chat.people import htpasswd

LOGIN = b"/login"

LOGIN_TIMEOUT = 30.0
"""Seconds a new connection has to log in."""

FAILURE_DELAY = 1.0
"""Seconds before a failed login is answered and the connection closed."""

FAILURES_PER_MINUTE = 5
"""Failed logins from one address in a minute past which no password is tried."""

KEPT_ADDRESSES = 4096
"""Addresses with failures kept before those of over a minute ago are forgotten."""

DECOY_COST = 12
"""The cost of the decoy of a file without users."""

Verify = Callable[[bytes, bytes], Deferred[bool]]


def decoyHash(hashes: Iterable[bytes]) -> bytes:
    """
    What a password is checked against when its name is unknown: a bcrypt
    hash of the cost most of C{hashes} have (the highest of those most
    common), so that the check takes as long as for a wrong password.

    It is a fresh salt and a hash of zeros, the hash of no password one can
    find: making it hashes nothing, so it costs nothing on the reactor's
    thread.
    """
    costs = Counter(htpasswd.cost(hashed) for hashed in hashes)
    cost = max(costs, key=lambda each: (costs[each], each), default=DECOY_COST)
    return bcrypt.gensalt(cost) + b"." * 31


def verifyInThread(password: bytes, hashed: bytes) -> Deferred[bool]:
    """Check C{password} against bcrypt C{hashed}, off the reactor's thread."""
    return deferToThread(bcrypt.checkpw, password, hashed)


class TooManyFailures(UnauthorizedLogin):
    """Refused without a check: the address failed too often lately."""


class IChatUser(Interface):
    """Someone with an account: what a login gives (its nick, as bytes)."""


@implementer(ICredentialsChecker)
class PasswordFileChecker:
    """
    Names and passwords from a file in the format of C{htpasswd -B}; names
    match as nicks do (L{nickKey}), and the avatar id is the name as the
    file spells it.  A name the file lacks is checked against a decoy of
    the cost of the file's hashes (L{decoyHash}).

    @raise htpasswd.PasswordFileError: the file is missing or malformed.
    """

    credentialInterfaces = (IUsernamePassword,)

    def __init__(self, path: str, verify: Verify = verifyInThread) -> None:
        self.path = path
        self._verify = verify
        self._users: dict[bytes, tuple[bytes, bytes]] = {}
        self._decoy = b""
        self.reload()

    def reload(self) -> int:
        """
        Read the file again: how many users it has.

        @raise htpasswd.PasswordFileError: it is missing or malformed now;
            the users read before stay.
        """
        users = htpasswd.read(self.path)
        self._users = {nickKey(name): (name, hashed) for name, hashed in users.items()}
        self._decoy = decoyHash(users.values())
        return len(users)

    def requestAvatarId(self, credentials: Any) -> Deferred[bytes | tuple[()]]:
        unknown = (b"", self._decoy)
        name, hashed = self._users.get(nickKey(credentials.username), unknown)
        checking = self._verify(credentials.password[:72], hashed)

        def checked(matches: bool) -> bytes | tuple[()]:
            if not matches or not name:
                raise UnauthorizedLogin()
            return name

        return checking.addCallback(checked)


@implementer(IRealm)
class ChatRealm:
    """A user's avatar is its name: it becomes its nick in the room."""

    def requestAvatar(
        self, avatarId: bytes | tuple[()], mind: object, *interfaces: Any
    ) -> tuple[Any, bytes | tuple[()], Callable[[], None]]:
        if IChatUser not in interfaces:
            raise NotImplementedError("only IChatUser")
        return IChatUser, avatarId, lambda: None


def passwordPortal(checker: PasswordFileChecker) -> Portal:
    return Portal(ChatRealm(), [checker])


@implementer(IStage)
class Gatekeeper:
    """
    The login stage: lets a connection into the room once it has logged in.

    @ivar admit: set as the room is put together: called with the client
        once it has logged in, and its account's name; it enters the room
        then (as another session of the account if the account is there).
    @ivar loggedIn: set as the room is put together: called with the
        client, in the room now, its name and the lines it sent after its
        C{/login}.
    @ivar metrics: where connections turned away are counted.
    """

    metrics: IMetrics = NO_METRICS
    wholeLines = True

    def __init__(
        self,
        portal: Portal,
        checker: PasswordFileChecker,
        clock: IReactorTime,
        log: Logger,
        timeout: float = LOGIN_TIMEOUT,
        delay: float = FAILURE_DELAY,
        perMinute: int = FAILURES_PER_MINUTE,
    ) -> None:
        self._portal = portal
        self._checker = checker
        self._clock = clock
        self._log = log
        self._timeout = timeout
        self._delay = delay
        self._perMinute = perMinute
        self._timers: dict[IClient, IDelayedCall] = {}
        self._checking: dict[IClient, list[bytes]] = {}
        self._failures: dict[str, deque[float]] = {}
        self._inFlight: Counter[str] = Counter()
        self._reminded: set[IClient] = set()
        self._admitted: dict[IClient, tuple[bytes, list[bytes]]] = {}
        self.admit: Callable[[IClient, bytes], None]
        self.loggedIn: Callable[[IClient, bytes, list[bytes]], None]

    def reload(self) -> None:
        """Read the password file again (on SIGHUP); keep the old on error."""
        try:
            count = self._checker.reload()
        except htpasswd.PasswordFileError as bad:
            self._log.error(
                "{error}; the users read before stay", category="AUTH", error=bad
            )
        else:
            self._log.info(
                "read {count} users from {path}",
                category="AUTH",
                count=count,
                path=self._checker.path,
            )

    def arrived(self, client: IClient) -> bool:
        """
        C{client} has connected: it is told to log in, and has C{timeout}
        seconds to.
        """
        self._timers[client] = self._clock.callLater(
            self._timeout, self._timedOut, client
        )
        client.sendq.write(wire.LOGIN_PROMPT)
        return True

    def entered(self, client: IClient) -> None:
        """C{client}, let in, is in the room: it is called by its name."""
        login = self._admitted.pop(client, None)
        if login is not None:
            self.loggedIn(client, *login)

    def left(self, client: IClient, relay: bool) -> None:
        self._forget(client)

    def _forget(self, client: IClient) -> None:
        """C{client} has gone; if before it was let in, it is forgotten."""
        timer = self._timers.pop(client, None)
        if timer is not None and timer.active():
            timer.cancel()
        self._checking.pop(client, None)
        self._reminded.discard(client)
        self._admitted.pop(client, None)

    def received(
        self, client: IClient, lines: list[bytes], frame: bytes
    ) -> list[bytes] | None:
        """
        Every line of a client not let in yet is for this stage.  A line
        too long to read (L{TOO_LONG}) is a failed login, unless a login
        sent before it is being checked: it then waits behind that one with
        the lines after it.
        """
        if client.clientId != UNNUMBERED:
            return lines
        if TOO_LONG not in lines:
            self._read(client, lines)
            return None
        at = lines.index(TOO_LONG)
        self._read(client, lines[:at])
        if client.clientId != UNNUMBERED:
            return lines[at:]  # it logged in at once
        self._tooLong(client, lines[at:])
        return None

    def _read(self, client: IClient, lines: list[bytes]) -> None:
        """C{client}, not let in yet, sent C{lines}."""
        if client in self._checking or client not in self._timers:
            return  # it is being checked or turned away: nothing more counts
        for at, line in enumerate(lines):
            word, _, credentials = line.partition(b" ")
            if word.lower() == LOGIN:
                self._login(client, credentials, lines[at + 1 :])
                return
            if client not in self._reminded:
                # Once: its output is outside the SendQ limits until it is in.
                self._reminded.add(client)
                client.sendq.write(wire.LOGIN_REQUIRED)

    def _tooLong(self, client: IClient, lines: list[bytes]) -> None:
        """
        C{client}, not let in yet, sent C{lines}, the first of them too long
        to read: a login that fails, as with a wrong password.  If a login
        it sent before is being checked, they wait behind it instead, as any
        lines sent after a login do.
        """
        waiting = self._checking.get(client)
        if waiting is not None:
            waiting.extend(lines)
        elif client in self._timers:
            self._login(client, b"", [])

    def _login(self, client: IClient, credentials: bytes, rest: list[bytes]) -> None:
        name, _, password = credentials.partition(b" ")
        self._checking[client] = rest
        client.gate.hold(Hold.LOGIN)
        host = _host(client)
        if self._tooMany(host):
            attempt: Deferred[Any] = fail(TooManyFailures())
        else:
            # Counted as a failure while it is checked, so that guesses sent
            # at once are no more than those sent one after the other.
            self._inFlight[host] += 1
            attempt = self._portal.login(
                UsernamePassword(name, password), None, IChatUser
            )
            attempt.addBoth(self._landed, host)
        attempt.addCallbacks(
            self._succeeded,
            self._refused,
            callbackArgs=(client,),
            errbackArgs=(client, name, host),
        )

    def _landed(self, result: object, host: str) -> object:
        """A check of a password from C{host} is over: pass its C{result} on."""
        self._inFlight[host] -= 1
        if not self._inFlight[host]:
            del self._inFlight[host]
        return result

    def _succeeded(self, login: tuple[Any, bytes, Any], client: IClient) -> None:
        rest = self._checking.pop(client, None)
        timer = self._timers.pop(client, None)
        if rest is None or timer is None:
            return  # it went away meanwhile
        timer.cancel()
        self._reminded.discard(client)
        name = login[1]
        self._log.info(
            "{name} logged in from {peer}",
            category="AUTH",
            name=name.decode(),
            peer=_peer(client),
        )
        # Admitted first: what it sent meanwhile is read once it is in.
        self._admitted[client] = (name, rest)
        self.admit(client, name)
        client.gate.release(Hold.LOGIN)

    def _refused(
        self, reason: Failure, client: IClient, name: bytes, host: str
    ) -> None:
        if not reason.check(UnauthorizedLogin):
            self._log.failure("checking a password failed", reason, category="AUTH")
        if not reason.check(TooManyFailures):
            # A refusal without a check tried no password: no failure.
            self._failed(host)
        self._log.warn(
            "login failed for {name} from {peer}{unchecked}",
            category="AUTH",
            name=printable(name[:64]),
            peer=_peer(client),
            unchecked=" (too many failures: not checked)"
            if reason.check(TooManyFailures)
            else "",
        )
        self._clock.callLater(self._delay, self._turnAway, client, wire.LOGIN_FAILED)

    def _failed(self, host: str) -> None:
        """A password from C{host} was checked and did not match."""
        if len(self._failures) >= KEPT_ADDRESSES:
            self._forgetOldFailures()
        failures = self._failures.setdefault(host, deque(maxlen=self._perMinute))
        failures.append(self._clock.seconds())

    def _timedOut(self, client: IClient) -> None:
        self._log.info(
            "{peer} did not log in in time",
            category="AUTH",
            peer=_peer(client),
        )
        self._turnAway(client, wire.LOGIN_TIMED_OUT)

    def _turnAway(self, client: IClient, notice: bytes) -> None:
        if client not in self._timers:
            return  # gone already
        self._forget(client)
        self.metrics.turnedAway("auth")
        client.sendq.write(notice)
        client.close(self._delay)

    def _forgetOldFailures(self) -> None:
        """Forget the addresses whose last failure is over a minute old."""
        since = self._clock.seconds() - 60.0
        old = [host for host, times in self._failures.items() if times[-1] <= since]
        for host in old:
            del self._failures[host]

    def _tooMany(self, host: str) -> bool:
        """
        Whether C{host} failed to log in too often in the last minute, its
        logins being checked counted as failures.
        """
        return self._recentFailures(host) + self._inFlight[host] >= self._perMinute

    def _recentFailures(self, host: str) -> int:
        """How many times C{host} failed to log in in the last minute."""
        failures = self._failures.get(host)
        if failures is None:
            return 0
        since = self._clock.seconds() - 60.0
        while failures and failures[0] <= since:
            failures.popleft()
        if not failures:
            del self._failures[host]
        return len(failures)


def _peer(client: IClient) -> str:
    return describePeer(client.transport)


def _host(client: IClient) -> str:
    return sourceOf(client.transport.getPeer()) or "?"
