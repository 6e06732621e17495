"""
The user twistd runs the server as once it has started (its C{--uid} and
C{--gid}), and what that user may do with the log.
"""

from __future__ import annotations

import os
import pwd
import stat
from dataclasses import dataclass

from twisted.logger import Logger
from twisted.python import usage


@dataclass(frozen=True)
class ProcessOwner:
    """
    The user and group the process switches to after the privileged part of
    its start (opening the log, binding ports as root).
    """

    uid: int
    gid: int

    @classmethod
    def ofTwistd(cls, options: usage.Options) -> ProcessOwner | None:
        """
        The owner twistd's C{--uid} and C{--gid} ask for, C{options} being
        the server's options under twistd's own; L{None} when the process
        keeps the user it was started as.  Without C{--gid}, the group is
        the user's own, as twistd has it.
        """
        twistd = options.parent
        if twistd is None:
            return None
        uid, gid = twistd.get("uid"), twistd.get("gid")
        if uid is None and gid is None:
            return None
        if uid is None:
            uid = os.geteuid()
        if gid is None:
            gid = pwd.getpwuid(uid).pw_gid
        return cls(uid, gid)

    def takeLog(self, path: str, log: Logger) -> None:
        """
        Make this user the owner of the log file at C{path}; warn on C{log}
        when it may not create the file again once it is renamed.

        @raise OSError: it cannot be given (the process is not root).
        """
        os.chown(path, self.uid, self.gid)
        directory = os.path.dirname(os.path.abspath(path))
        if not self.mayCreateIn(directory):
            log.warn(
                "uid {uid} cannot create files in {directory!r}: once the log is"
                " renamed (logrotate, mv), SIGHUP cannot create it again; make the"
                " directory writable by that user",
                category="start",
                uid=self.uid,
                directory=directory,
            )

    def mayCreateIn(self, directory: str) -> bool:
        """
        Whether this user may create a file in C{directory}, by its mode
        bits: the owner's, the group's when the user is in its group, or
        everyone's.
        """
        info = os.stat(directory)
        if self.uid == 0:
            return True
        if info.st_uid == self.uid:
            needed = stat.S_IWUSR | stat.S_IXUSR
        elif info.st_gid in self._groups():
            needed = stat.S_IWGRP | stat.S_IXGRP
        else:
            needed = stat.S_IWOTH | stat.S_IXOTH
        return info.st_mode & needed == needed

    def _groups(self) -> set[int]:
        """The group, and the user's other groups, as the switch sets them."""
        try:
            name = pwd.getpwuid(self.uid).pw_name
        except KeyError:  # a uid with no name: no other groups
            return {self.gid}
        return {self.gid, *os.getgrouplist(name, self.gid)}
