"""
The line splitter of a byte stream: what a client sends, turned into the
lines the room relays.

Lines end with C{\\n}; one C{\\r} right before it is removed.  A line longer
than the maximum is relayed in pieces of that many bytes, never dropped, and
at most that many bytes of a partial line (plus a C{\\r} that may turn out to
be half of a CRLF) stay buffered.  Each received chunk is split in one pass.

With commands on, a line that would be taken as a command (or a login) is
refused whole when it is too long: L{TOO_LONG} stands for it, as soon as it
is too long, and its bytes are dropped up to the next C{\\n}; and a piece of
another line that begins with C{/} is escaped as C{//}, so that the room
relays it as it is.
"""

from __future__ import annotations

TOO_LONG = b"/\n"
"""
Handed on in place of a line that is refused whole for being too long.  No
line a client sends holds a C{\\n}, so it stands for nothing else; it begins
with C{/}, so the room takes it the way of commands (or of logins, before the
client has an id), never of lines to relay.
"""


class LineSplitter:
    """
    The input of one client not relayed yet, and how it splits into lines.

    @ivar maxLength: the longest line handed on as it is.
    @ivar commands: whether commands act on the lines: then one that begins
        with C{/} is refused whole when it is too long.
    @ivar everyLine: whether, with C{commands}, every line is taken as a
        command (a client that has not logged in yet sends its login).
    """

    __slots__ = (
        "maxLength",
        "commands",
        "everyLine",
        "_unread",
        "_discarding",
        "_continued",
    )

    def __init__(self, maxLength: int, commands: bool = False) -> None:
        self.maxLength = maxLength
        self.commands = commands
        self.everyLine = False
        self._unread = b""
        self._discarding = False
        # Whether the partial line buffered is the rest of a line whose first
        # pieces were handed on: text, whatever its rest begins with.
        self._continued = False

    @property
    def buffered(self) -> int:
        """Bytes received and not handed on yet."""
        return len(self._unread)

    @property
    def overlong(self) -> bool:
        """Whether the partial line buffered is past the longest line."""
        return len(self._unread) > self.maxLength

    def feed(self, data: bytes) -> None:
        """Buffer C{data}, as received; the rest of a refused line is dropped."""
        if self._discarding:
            end = data.find(b"\n")
            self._discarding = end < 0
            data = data[end + 1 :] if end >= 0 else b""
        self._unread += data

    def end(self) -> None:
        """The input ends: a partial line buffered counts as ended with C{\\n}."""
        if self._unread and not self._unread.endswith(b"\n"):
            self._unread += b"\n"

    def clear(self) -> bytes:
        """Forget what is buffered, and return it."""
        rest, self._unread = self._unread, b""
        return rest

    def complete(self) -> int:
        """Where the complete lines of what is buffered end."""
        return self._unread.rfind(b"\n") + 1

    def afford(self, end: int, budget: float) -> tuple[int, int]:
        """
        How much of the buffer up to C{end}, complete lines, fits in
        C{budget} lines, and how many lines that is.  A line fits while
        there is a line's budget left; it costs one line for each piece it
        is handed on as (one, when it is refused whole).
        """
        data, limit = self._unread, self.maxLength
        if end <= limit + 1:  # no line is cut into pieces
            lines = data.count(b"\n", 0, end)
            if lines <= budget:
                return end, lines
        spent, start = 0, 0
        while start < end and budget - spent >= 1:
            stop = data.index(b"\n", start, end)
            content = stop - start - (data[stop - 1 : stop] == b"\r")
            first = data[start : start + 1]
            continued = start == 0 and self._continued
            if content <= limit or self._refusesWhole(first, continued):
                spent += 1
            else:
                spent += -(-content // limit)
            start = stop + 1
        return start, spent

    def take(self, end: int) -> list[bytes]:
        """
        The lines of the buffer up to C{end} (not 0), complete lines, as
        they are handed on: without their delimiters, long ones in pieces.
        """
        block, self._unread = self._unread[:end], self._unread[end:]
        if b"\r" in block:
            block = block.replace(b"\r\n", b"\n")
        lines = block.split(b"\n")
        del lines[-1]
        rest: list[bytes] = []
        if self._continued:
            self._continued = False
            rest = self._textPieces(lines.pop(0))
        if len(block) > self.maxLength + 1:
            lines = self._cut(lines)
        return rest + lines if rest else lines

    def overlongCost(self) -> int:
        """
        How many lines the leading pieces of a partial line past the
        longest line are handed on as now (one, when it is refused whole);
        none while there is not a whole piece.
        """
        whole = self._wholePieces()
        if not whole:
            return 0
        return 1 if self._refusesWhole(self._unread, self._continued) else whole

    def takeOverlong(self) -> list[bytes]:
        """
        The leading pieces of a partial line past the longest line, the rest
        kept buffered; or, if the line is refused whole, L{TOO_LONG}, and
        the rest of it is dropped as it comes.
        """
        pending, limit = self._unread, self.maxLength
        whole = self._wholePieces() * limit
        if not whole:
            return []
        if self._refusesWhole(pending, self._continued):
            self._unread, self._discarding = b"", True
            return [TOO_LONG]
        self._unread, self._continued = pending[whole:], True
        return self._textPieces(pending[:whole])

    def _wholePieces(self) -> int:
        """How many whole pieces the partial line buffered holds, less one."""
        pending = self._unread
        # A trailing \r may be dropped by a \n yet to come: do not count it.
        content = len(pending) - (pending.endswith(b"\r"))
        return (content - 1) // self.maxLength

    def _refusesWhole(self, line: bytes, continued: bool = False) -> bool:
        """
        Whether C{line}, or its beginning, too long, is refused whole; never
        when it is C{continued}, the rest of a line cut into pieces.
        """
        return (
            self.commands
            and not continued
            and (line.startswith(b"/") or self.everyLine)
        )

    def _cut(self, lines: list[bytes]) -> list[bytes]:
        limit = self.maxLength
        if max(map(len, lines), default=0) <= limit:
            return lines
        cut: list[bytes] = []
        for line in lines:
            if len(line) <= limit:
                cut.append(line)
            elif self._refusesWhole(line):
                cut.append(TOO_LONG)
            else:
                cut.extend(self._textPieces(line))
        return cut

    def _textPieces(self, line: bytes) -> list[bytes]:
        """
        The pieces of at most C{maxLength} bytes that C{line}, text, is
        handed on as.  With commands on, a piece that begins with C{/} is
        escaped, as a line beginning with C{//} is, so that it is relayed
        as it is, never taken for a command.
        """
        size = self.maxLength
        pieces = [line[start : start + size] for start in range(0, len(line), size)]
        if self.commands:
            pieces = [b"/" + each if each[:1] == b"/" else each for each in pieces]
        return pieces
