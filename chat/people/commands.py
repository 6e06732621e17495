"""
Slash commands (C{--commands}): lines that begin with C{/}
are commands to the server, never relayed; C{//} relays a line that begins
with C{/}.

What the whole room must agree on (nicks, who is there, where a client is)
is asked of the room's L{IPeers}: at once in one process, from Redis in a
cluster.  While such an answer is awaited the client's input is held, and
the lines it sent after the command wait, so that its lines and what its
commands do reach the others in the order it sent them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from twisted.internet.defer import Deferred
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

from chat.core import wire
from chat.core.gate import Hold
from chat.core.interfaces import IClient, IPeers, IStage
from chat.core.lines import TOO_LONG
from chat.core.lobby import UNNUMBERED
from chat.core.names import validNick

if TYPE_CHECKING:
    from chat.core.room import ChatRoom

COMMAND = b"/"

HELP = (
    b"server: commands:\n"
    b"server: /nick NAME - be called NAME (1-32 of A-Z a-z 0-9 _ -)\n"
    b"server: /me TEXT - tell the others what you do: * NAME TEXT\n"
    b"server: /msg NAME TEXT - send TEXT to NAME alone\n"
    b"server: /who - list who is here\n"
    b"server: /quit [TEXT] - leave, saying TEXT\n"
    b"server: /help - this list\n"
    b"server: a line that begins with // is sent with one / removed\n"
)

CLUSTER_FAILED = b"server: the cluster did not answer, try again\n"
MSG_USAGE = b"server: usage: /msg NAME TEXT\n"
LOGGED_IN = b"server: you are logged in already\n"
LOGINS_OFF = b"server: logins are off here\n"
NAMED_BY_ACCOUNT = b"server: with logins, your name is your account\n"

Command = Callable[["Commands", "IClient", bytes], "Deferred[None] | None"]


@implementer(IStage)
class Commands:
    """
    The commands of one room: its stage that runs them.

    @ivar _waiting: for each client whose command awaits an answer, the
        lines it sent after that command.
    """

    wholeLines = True

    def __init__(
        self, room: ChatRoom, peers: IPeers, log: Logger, logins: bool = False
    ) -> None:
        """@param logins: whether clients log in (C{--auth}) as they arrive."""
        self._room = room
        self._peers = peers
        self._log = log
        self._logins = logins
        self._waiting: dict[IClient, list[bytes]] = {}

    def arrived(self, client: IClient) -> bool:
        return False

    def entered(self, client: IClient) -> None:
        pass

    def reload(self) -> None:
        pass

    def received(
        self, client: IClient, lines: list[bytes], frame: bytes
    ) -> list[bytes] | None:
        """
        C{client} sent C{lines}: those that may hold commands are taken
        over (relayed, and their commands run, in order); others go on.
        """
        if not _mayHoldCommands(client, frame):
            return lines
        waiting = self._waiting.get(client)
        if waiting is not None:
            waiting.extend(lines)
        else:
            self._run(client, lines, leaving=False)
        return None

    def loggedIn(self, client: IClient, name: bytes, rest: list[bytes]) -> None:
        """
        C{client}, in the room now, logged in as C{name}: it is called so, as
        by a C{/nick NAME} (which, with logins, no client may send), then
        C{rest} is relayed.
        """
        answer = self._rename(client, name)
        if answer is not None and not answer.called:
            answer.addErrback(self._failed, client)
            self._wait(client, answer, rest)
        else:
            self._run(client, rest, leaving=False)

    def left(self, client: IClient, relay: bool) -> None:
        """
        C{client} is leaving: with C{relay}, the lines that wait behind one
        of its commands are relayed now; its commands no longer run.
        """
        waiting = self._waiting.pop(client, None)
        if waiting is not None and relay:
            self._run(client, waiting, leaving=True)

    def _run(self, client: IClient, lines: list[bytes], leaving: bool) -> None:
        """
        Relay C{lines}, running the commands among them in order; the lines
        after a command that awaits an answer wait for it.
        """
        start = 0
        for at, line in enumerate(lines):
            if not line.startswith(COMMAND):
                continue
            if line.startswith(COMMAND, 1):
                lines[at] = line[1:]
                continue
            if start < at:
                self._room.broadcast(client, lines[start:at])
            start = at + 1
            if leaving or client.ended:
                continue  # a command cut short by a disconnection
            answer = self._execute(client, line)
            if self._room.clients.get(client.clientId) is not client:
                return  # it quit
            if answer is not None and not answer.called:
                self._wait(client, answer, lines[start:])
                return
        if start < len(lines):
            self._room.broadcast(client, lines[start:])

    def _wait(self, client: IClient, answer: Deferred[None], rest: list[bytes]) -> None:
        self._waiting[client] = rest
        client.gate.hold(Hold.COMMAND)
        answer.addBoth(lambda _: self._answered(client))

    def _answered(self, client: IClient) -> None:
        rest = self._waiting.pop(client, None)
        if rest is None:
            return  # it left meanwhile
        self._run(client, rest, leaving=False)
        if client not in self._waiting:
            client.gate.release(Hold.COMMAND)

    def _execute(self, client: IClient, line: bytes) -> Deferred[None] | None:
        if line == TOO_LONG:
            self._log.info(
                "client {clientId} sent a command longer than the maximum line;"
                " refused",
                category="CMD",
                clientId=client.clientId,
            )
            self._room.tell(client, wire.LINE_TOO_LONG)
            return None
        word, _, argument = line.partition(b" ")
        command = _COMMANDS.get(word.lower())
        self._log.info(
            "client {clientId} ran {command}",
            category="CMD",
            clientId=client.clientId,
            command=word.lower().decode() if command else "an unknown command",
        )
        if command is None:
            self._room.tell(client, wire.unknownCommand(word))
            return None
        answer = command(self, client, argument)
        if answer is not None:
            answer.addErrback(self._failed, client)
        return answer

    def _failed(self, reason: Failure, client: IClient) -> None:
        self._log.warn(
            "a command of client {clientId} failed: {why}",
            category="CMD",
            clientId=client.clientId,
            why=reason.getErrorMessage(),
        )
        self._room.tell(client, CLUSTER_FAILED)

    def _here(self, client: IClient) -> bool:
        return self._room.clients.get(client.clientId) is client

    # The commands

    def nick(self, client: IClient, name: bytes) -> Deferred[None] | None:
        if self._logins:
            self._room.tell(client, NAMED_BY_ACCOUNT)
            return None
        return self._rename(client, name)

    def _rename(self, client: IClient, name: bytes) -> Deferred[None] | None:
        """Have C{client} called C{name}, if no other client is."""
        if not validNick(name):
            self._room.tell(client, wire.INVALID_NICK)
            return None
        if name == client.nick:
            return None
        claim = self._peers.claim(client.clientId, name)
        return claim.addCallback(self._claimed, client, name)

    def _claimed(self, claimed: bool, client: IClient, name: bytes) -> None:
        if not self._here(client):
            return
        if not claimed:
            self._room.tell(client, wire.nickTaken(name))
            return
        self.announceNick(client, name)

    def announceNick(self, client: IClient, name: bytes) -> None:
        """C{client} is called C{name} from now on: tell everyone else."""
        self._room.announce(wire.renamed(client.label, name), client)
        client.rename(name)
        self._log.info(
            "client {clientId} is now {nick}",
            category="STATE",
            clientId=client.clientId,
            nick=name.decode(),
        )

    def me(self, client: IClient, text: bytes) -> None:
        self._room.announce(wire.action(client.label, text), client)

    def msg(self, client: IClient, argument: bytes) -> Deferred[None] | None:
        name, _, text = argument.partition(b" ")
        if not name or not text:
            self._room.tell(client, MSG_USAGE)
            return None
        if not validNick(name):
            self._room.tell(client, wire.noSuchNick(name))
            return None
        found = self._peers.find(name)
        return found.addCallback(self._found, client, name, text)

    def _found(
        self, clientId: int | None, client: IClient, name: bytes, text: bytes
    ) -> None:
        if not self._here(client):
            return
        if clientId is None:
            self._room.tell(client, wire.noSuchNick(name))
            return
        message = wire.private(client.label, text)
        for session in self._peers.sessions(clientId):
            addressee = self._room.clients.get(session)
            if addressee is not None:
                self._room.tell(addressee, message, sender=client)
            else:
                self._peers.tell(session, message)

    def who(self, client: IClient, argument: bytes) -> Deferred[None]:
        listing = self._peers.who()
        return listing.addCallback(lambda answer: self._room.tell(client, answer))

    def quit(self, client: IClient, why: bytes) -> None:
        self._room.departures.quit(client, why)

    def help(self, client: IClient, argument: bytes) -> None:
        self._room.tell(client, HELP)

    def login(self, client: IClient, argument: bytes) -> None:
        self._room.tell(client, LOGGED_IN if self._logins else LOGINS_OFF)


_COMMANDS: dict[bytes, Command] = {
    b"/nick": Commands.nick,
    b"/me": Commands.me,
    b"/msg": Commands.msg,
    b"/who": Commands.who,
    b"/quit": Commands.quit,
    b"/help": Commands.help,
    b"/login": Commands.login,
}


def _mayHoldCommands(sender: IClient, frame: bytes) -> bool:
    """
    Whether C{frame}, lines of C{sender}, may hold commands (or a login,
    before it has an id).  A search for C{/} in the frame, built anyway,
    rules out commands in nearly every chunk with no work per line; a
    search for the prefix of a line that begins with C{/} in most others.
    """
    return sender.clientId == UNNUMBERED or (
        b"/" in frame and sender.commandMark in frame
    )
