"""
C{mini_serv PORT}'s first milliseconds, once the installed C{mini_serv}
script has listened: check the command line, start the start-up relay, and
only then load the server.

The script listens before it imports this module (or any of the package);
what this module imports before the relay runs is the standard library's
cheapest parts and L{chat.app.parsing}, made of them.  Measure with
C{python -X importtime}, and C{benchmarks/miniserv_start.py}.
"""

from __future__ import annotations

import sys

from chat.app import parsing

TYPE_CHECKING = False  # rather than importing typing, which takes 10 ms
if TYPE_CHECKING:
    import _socket
    from typing import NoReturn

INTERFACE = "127.0.0.1"
"""Where C{mini_serv} listens: the script says it again, as it cannot import this."""
LOG_FILE = "mini_serv.log"
MAX_LINE = 65536
"""The server's default C{--max-line}, which the start-up relay keeps too."""


USAGE = f"""Usage: mini_serv PORT
Serve the chat on {INTERFACE}:PORT, as the exam's mini_serv does, logging to
{LOG_FILE} in the current directory.  Stop it with Ctrl+C or SIGTERM.
"""


def main(listener: _socket.socket | None, listeningSince: float) -> None:
    """
    Serve on C{listener}, which the script made listening on the port its
    one argument names since C{listeningSince}, or C{None} if it could not.
    """
    arguments = sys.argv[1:]
    if arguments == ["--help"]:
        sys.stdout.write(USAGE)
        raise SystemExit(0)
    if len(arguments) != 1:
        _fail("Wrong number of arguments")
    try:
        parsing.writableFile("--logfile", LOG_FILE)
        parsing.port("PORT", arguments[0])
    except ValueError:
        if listener is not None:  # on what int() took for a port: " 80", "8_0"
            listener.close()
        _fail("Fatal error")
    if listener is None:  # busy, or not the user's to take
        _fail("Fatal error")
    import socket

    from chat.tools.miniserv.relay import StartupRelay

    relay = StartupRelay(socket.socket(fileno=listener.detach()), MAX_LINE)
    relay.start(listeningSince)
    from chat.tools.miniserv.handover import serve  # loads Twisted: the long part

    serve(relay, LOG_FILE)


def _fail(message: str) -> NoReturn:
    sys.stderr.write(message + "\n")
    raise SystemExit(1)
