"""
C{mini_serv PORT}'s first milliseconds: check the command line, bind and
listen, start the start-up relay, and only then load the server.

Only what binding needs is imported before it: the C{_socket} extension
module (the C{socket} module around it costs several milliseconds more,
C{typing} ten), and L{chat.app.parsing}, which is made of the standard
library's cheapest parts.  Measure with C{python -X importtime}.
"""

from __future__ import annotations

import _socket
import sys
import time  # loaded with the interpreter already

from chat.app import parsing

TYPE_CHECKING = False  # rather than importing typing, which takes 10 ms
if TYPE_CHECKING:
    from typing import NoReturn

INTERFACE = "127.0.0.1"
LOG_FILE = "mini_serv.log"
MAX_LINE = 65536
"""The server's default C{--max-line}, which the start-up relay keeps too."""


USAGE = f"""Usage: mini_serv PORT
Serve the chat on {INTERFACE}:PORT, as the exam's mini_serv does, logging to
{LOG_FILE} in the current directory.  Stop it with Ctrl+C or SIGTERM.
"""


def main() -> None:
    arguments = sys.argv[1:]
    if arguments == ["--help"]:
        sys.stdout.write(USAGE)
        raise SystemExit(0)
    if len(arguments) != 1:
        _fail("Wrong number of arguments")
    try:
        parsing.writableFile("--logfile", LOG_FILE)
        listener = listeningSocket(arguments[0])
    except (ValueError, OSError):
        _fail("Fatal error")
    listeningSince = time.time()
    import socket

    from chat.tools.miniserv.relay import StartupRelay

    relay = StartupRelay(socket.socket(fileno=listener.detach()), MAX_LINE)
    relay.start(listeningSince)
    from chat.tools.miniserv.handover import serve  # loads Twisted: the long part

    serve(relay, LOG_FILE)


def listeningSocket(port: str) -> _socket.socket:
    """
    A TCP socket listening on C{INTERFACE}:C{port}, as the exam binary's.

    @raise ValueError: C{port} is not a port number.
    @raise OSError: the port cannot be bound (busy, not allowed).
    """
    number = parsing.port("PORT", port)
    listener = _socket.socket(_socket.AF_INET, _socket.SOCK_STREAM)
    try:
        listener.setsockopt(_socket.SOL_SOCKET, _socket.SO_REUSEADDR, 1)
        listener.bind((INTERFACE, number))
        listener.listen(_socket.SOMAXCONN)
    except OSError:
        listener.close()
        raise
    return listener


def _fail(message: str) -> NoReturn:
    sys.stderr.write(message + "\n")
    raise SystemExit(1)
