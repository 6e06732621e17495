"""
The bytes on the wire (the mini_serv protocol and the notices of the
opt-in features), shared by the server and the tools.

Everything here is C{bytes}: the relay never decodes what clients send.
"""

from __future__ import annotations

DELIMITER = b"\n"
"""Every line, relayed or notice, ends with this."""

SERVER_PREFIX = b"server: "
"""Server notices start with this, so a client can tell them from lines."""

SHUTTING_DOWN = b"server: shutting down\n"
SERVER_FULL = b"server: server full\n"
TOO_MANY_FROM_ADDRESS = b"server: too many connections from your address\n"
IDLE_TIMEOUT = b"server: idle for too long, disconnecting\n"
NO_CLUSTER = b"server: cluster unavailable, try again later\n"
EXPELLED = b"server: this server lost the cluster, reconnect\n"

ARRIVED = b"server: client %d just arrived\n"
LEFT = b"server: client %d just left\n"
"""The notices' formats, for code that fills in the id elsewhere (in Redis)."""

LINE_PREFIX = b"client %d: "
"""The format of what comes before each relayed line (L{linePrefix})."""


def arrived(clientId: int) -> bytes:
    """The notice every other client receives when C{clientId} connects."""
    return ARRIVED % (clientId,)


def left(clientId: int) -> bytes:
    """The notice every other client receives when C{clientId} goes away."""
    return LEFT % (clientId,)


def linePrefix(clientId: int) -> bytes:
    """What comes before each line relayed from C{clientId}."""
    return LINE_PREFIX % (clientId,)


# Chat for people (--history, --commands, --auth): notices of the opt-in features.

END_OF_HISTORY = b"server: end of history\n"
LOGIN_PROMPT = b"server: log in with /login NAME PASSWORD\n"
LOGIN_REQUIRED = b"server: log in first: /login NAME PASSWORD\n"
LOGIN_FAILED = b"server: login failed\n"
LOGIN_TIMED_OUT = b"server: login timed out\n"
INVALID_NICK = b"server: invalid nick\n"
LINE_TOO_LONG = b"server: line too long\n"
LEFT_AS = b"server: %s just left\n"
"""The leave notice by a client's label, which Redis fills in for a node's
clients when it buries the node."""


_UNSAFE = dict.fromkeys([*range(0x20), *range(0x7F, 0xA0), 0x2028, 0x2029], "\ufffd")
"""
Control characters (C0, DEL, C1) and the line and paragraph separators, to
U+FFFD, for L{str.translate} (rather than a regular expression: importing
C{re} would slow down C{mini_serv}'s start-up relay, which uses this module).
"""


def safeText(text: bytes) -> bytes:
    """
    C{text}, from a client, made fit to be quoted in a notice of the
    server's: UTF-8 in which bytes that are not UTF-8, control characters
    and the line and paragraph separators are each U+FFFD, so that it
    cannot end the notice early, move a terminal's cursor or start a line
    of its own on the page.
    """
    return text.decode(errors="replace").translate(_UNSAFE).encode()


def historyStart(count: int) -> bytes:
    """What a newcomer receives before the C{count} lines of history."""
    return b"server: last %d lines\n" % (count,)


def clientLabel(clientId: int) -> bytes:
    """How a client without a nick is named: C{client N}."""
    return b"client %d" % (clientId,)


def leftAs(label: bytes, why: bytes = b"") -> bytes:
    """
    The notice every other client receives when the client called C{label}
    goes away, with C{why} when it said why (C{/quit TEXT}; see
    L{safeText}).
    """
    if why:
        return b"server: %s just left (%s)\n" % (label, safeText(why))
    return LEFT_AS % (label,)


def renamed(old: bytes, new: bytes) -> bytes:
    """The notice every other client receives when C{old} takes a nick."""
    return SERVER_PREFIX + old + b" is now " + new + DELIMITER


def nickTaken(name: bytes) -> bytes:
    return b"server: nick " + name + b" is taken\n"


def noSuchNick(name: bytes) -> bytes:
    return b"server: no such nick " + safeText(name) + b"\n"


def unknownCommand(word: bytes) -> bytes:
    return b"server: unknown command " + safeText(word) + b", try /help\n"


def action(label: bytes, text: bytes) -> bytes:
    """What others receive for C{/me TEXT} from C{label}."""
    return b"* " + label + (b" " + text if text else b"") + DELIMITER


def private(sender: bytes, text: bytes) -> bytes:
    """What the addressee receives for C{/msg NAME TEXT} from C{sender}."""
    return sender + b" (private): " + text + DELIMITER


def youAre(clientId: int) -> bytes:
    """What a client told who it is, as it enters, is told first."""
    return b"server: you are client %d\n" % (clientId,)


def who(labels: list[bytes]) -> bytes:
    """The answer to C{/who}: every client's label, in id order."""
    count = len(labels)
    noun = b"client" if count == 1 else b"clients"
    return b"server: %d %s: %s\n" % (count, noun, b", ".join(labels))
