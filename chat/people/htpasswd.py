"""
The password file of C{--auth}: C{name:hash} lines as Apache's
C{htpasswd -B} writes them, bcrypt hashes only.  Shared by the server
(L{chat.people.auth}) and C{chat-passwd} (L{chat.tools.passwd}).
"""

from __future__ import annotations

import os
import re
import tempfile

from chat.core.names import nickKey, validNick

_BCRYPT = re.compile(rb"\$2[aby]\$(0[4-9]|[12][0-9]|3[01])\$[./A-Za-z0-9]{53}\Z")


class PasswordFileError(ValueError):
    """The file cannot be read, or one of its lines is not C{name:hash}."""


def parse(data: bytes, path: str) -> dict[bytes, bytes]:
    """
    The users and bcrypt hashes of C{data}, the content of C{path}.  Empty
    lines are skipped.

    @raise PasswordFileError: a line is malformed, or its name is the same
        nick as the name of an earlier line (L{nickKey}: they look alike);
        the message names it.
    """
    users: dict[bytes, bytes] = {}
    lines: dict[bytes, tuple[int, bytes]] = {}
    for number, line in enumerate(data.split(b"\n"), start=1):
        line = line.rstrip(b"\r")
        if not line.strip():
            continue
        name, colon, hashed = line.partition(b":")
        where = f"{path}, line {number}"
        if not colon:
            raise PasswordFileError(f"{where}: not name:hash")
        if not validNick(name):
            raise PasswordFileError(f"{where}: {name!r} cannot be a nick")
        if _BCRYPT.match(hashed) is None:
            raise PasswordFileError(f"{where}: not a bcrypt hash (htpasswd -B)")
        earlier, same = lines.setdefault(nickKey(name), (number, name))
        if earlier != number:
            raise PasswordFileError(
                f"{where}: {name!r} is the same nick as {same!r} of line {earlier}"
            )
        users[name] = hashed
    return users


def cost(hashed: bytes) -> int:
    """The cost of bcrypt hash C{hashed}, as L{parse} takes them: 4 to 31."""
    return int(hashed[4:6])


def read(path: str) -> dict[bytes, bytes]:
    """
    The users of the file at C{path}.

    @raise PasswordFileError: it cannot be read or is malformed.
    """
    try:
        with open(path, "rb") as file:
            data = file.read()
    except OSError as failed:
        raise PasswordFileError(f"{path}: {failed.strerror}") from None
    return parse(data, path)


def write(path: str, users: dict[bytes, bytes]) -> None:
    """
    Replace the file at C{path} with C{users}, at once: a server reading it
    meanwhile sees the old content or the new one.
    """
    directory = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".chat-passwd-")
    try:
        with os.fdopen(handle, "wb") as file:
            file.writelines(
                name + b":" + hashed + b"\n" for name, hashed in users.items()
            )
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
