"""
The user twistd switches to (C{--uid}, C{--gid}), as the server learns it
from twistd's options, and whether that user may create the log again.
"""

from __future__ import annotations

import os
import pwd
from pathlib import Path

import pytest
from twisted.scripts.twistd import ServerOptions

from chat.app.options import Options
from chat.app.owner import ProcessOwner

NOBODY = pwd.getpwnam("nobody")


def _serverOptions(tmp_path: Path, *twistd: str) -> Options:
    """The chat options under twistd's, from C{twistd TWISTD chat ...}."""
    config = ServerOptions()
    log = str(tmp_path / "mini_serv.log")
    config.parseOptions([*twistd, "chat", "--logfile", log])
    assert isinstance(config.subOptions, Options)
    return config.subOptions


def test_uidAndGidFromTwistd(tmp_path: Path) -> None:
    """C{--uid} and C{--gid} given to twistd are the owner."""
    options = _serverOptions(tmp_path, "--uid", "nobody", "--gid", "0")
    assert ProcessOwner.ofTwistd(options) == ProcessOwner(NOBODY.pw_uid, 0)


def test_groupOfTheUser(tmp_path: Path) -> None:
    """Without C{--gid}, the group is the user's own, as twistd sets it."""
    options = _serverOptions(tmp_path, "--uid", "nobody")
    owner = ProcessOwner(NOBODY.pw_uid, NOBODY.pw_gid)
    assert ProcessOwner.ofTwistd(options) == owner


def test_noSwitch(tmp_path: Path) -> None:
    """
    Without C{--uid} and C{--gid}, or without twistd (the options alone),
    there is no owner to give the log to.
    """
    assert ProcessOwner.ofTwistd(_serverOptions(tmp_path)) is None
    assert ProcessOwner.ofTwistd(Options()) is None


OTHER = 54321
"""A uid and gid that are neither this process's nor anyone's."""


@pytest.mark.parametrize(
    ("mode", "owner", "member", "expected"),
    [
        (0o700, True, False, True),
        (0o500, True, False, False),
        (0o750, False, True, False),
        (0o770, False, True, True),
        (0o707, False, False, True),
        (0o706, False, False, False),
        (0o775, False, False, False),
    ],
    ids=[
        "owner-write",
        "owner-read",
        "group-read",
        "group-write",
        "others-write",
        "others-no-search",
        "others-read",
    ],
)
def test_mayCreateIn(
    tmp_path: Path, mode: int, owner: bool, member: bool, expected: bool
) -> None:
    """
    The directory's owner bits count for its owner, its group bits for a
    member of its group, the others' bits for the rest; write and search
    are both needed.
    """
    directory = tmp_path / "logs"
    directory.mkdir(mode)
    directory.chmod(mode)
    if os.geteuid() == 0:  # root may create anywhere: the directory is another's
        os.chown(directory, OTHER, -1)
    info = directory.stat()
    user = ProcessOwner(
        info.st_uid if owner else OTHER + 1, info.st_gid if member else OTHER + 1
    )
    assert user.mayCreateIn(str(directory)) is expected
