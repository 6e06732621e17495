"""
C{chat-passwd FILE NAME}: add a user to the password file of C{--auth}, or
change their password.  The password is read without echo from a terminal,
from the first line of standard input otherwise.
"""

from __future__ import annotations

import getpass
import os
import sys

import bcrypt
from twisted.python import usage

from chat.app import parsing
from chat.core.names import validNick
from chat.people import htpasswd
from chat.tools.cli import ToolOptions, parseCommandLine

PROGRAM = "chat-passwd"


class Options(ToolOptions):
    program = PROGRAM
    arguments = "FILE NAME"
    longdesc = (
        "Add NAME to FILE, the password file of twistd chat --auth, or change"
        " NAME's password.  FILE is created if missing; its format is that of"
        " Apache's htpasswd -B."
    )
    optParameters = [
        ["cost", "C", "12", "bcrypt cost, 4-31: each step doubles the work."],
    ]

    def parseArgs(self, *arguments: str) -> None:
        if len(arguments) != 2:
            raise usage.UsageError("expected two arguments, FILE and NAME")
        path, name = arguments
        self["file"] = path
        if not validNick(name.encode()):
            raise usage.UsageError(
                f"{name!r} is not a nick: 1-32 of A-Z a-z 0-9 _ -, not clientN"
            )
        self["name"] = name.encode()

    def postOptions(self) -> None:
        self["cost"] = parsing.wholeNumber("--cost", self["cost"], least=4, most=31)


def readPassword() -> bytes:
    """The new password: asked twice on a terminal, else one line of stdin."""
    if sys.stdin.isatty():
        first = getpass.getpass("New password: ")
        if getpass.getpass("Again: ") != first:
            raise SystemExit(f"{PROGRAM}: the passwords differ")
        password = first.encode()
    else:
        password = sys.stdin.buffer.readline().rstrip(b"\r\n")
    if not password:
        raise SystemExit(f"{PROGRAM}: empty password")
    if len(password) > 72:
        raise SystemExit(f"{PROGRAM}: bcrypt uses at most 72 bytes of a password")
    return password


def main() -> None:
    options = parseCommandLine(Options())
    path = options["file"]
    try:
        users = htpasswd.read(path) if os.path.exists(path) else {}
    except htpasswd.PasswordFileError as bad:
        raise SystemExit(f"{PROGRAM}: {bad}") from None
    password = readPassword()
    hashed = bcrypt.hashpw(password, bcrypt.gensalt(options["cost"]))
    users[options["name"]] = hashed
    try:
        htpasswd.write(path, users)
    except OSError as failed:
        raise SystemExit(f"{PROGRAM}: {path}: {failed.strerror}") from None
    print(f"{PROGRAM}: {options['name'].decode()} set in {path}", file=sys.stderr)
