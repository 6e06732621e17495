"""
The bytes on the wire (SPEC section 1), shared by the server and the tools.

Everything here is C{bytes}: the relay never decodes what clients send.
"""

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
