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


def arrived(clientId: int) -> bytes:
    """The notice every other client receives when C{clientId} connects."""
    return b"server: client %d just arrived\n" % (clientId,)


def left(clientId: int) -> bytes:
    """The notice every other client receives when C{clientId} goes away."""
    return b"server: client %d just left\n" % (clientId,)


def linePrefix(clientId: int) -> bytes:
    """What comes before each line relayed from C{clientId}."""
    return b"client %d: " % (clientId,)
