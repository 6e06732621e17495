"""
The line splitter alone: bytes in, the lines the room relays out.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from chat.core.lines import TOO_LONG, LineSplitter


def relayed(splitter: LineSplitter, *chunks: bytes) -> list[bytes]:
    """What C{splitter} hands on for C{chunks}, read as a client reads."""
    out: list[bytes] = []
    for chunk in chunks:
        splitter.feed(chunk)
        end = splitter.complete()
        if end:
            out += splitter.take(end)
        if splitter.overlong:
            out += splitter.takeOverlong()
    return out


def test_linesWithoutDelimiters() -> None:
    """Complete lines are handed on without their C{\\n}, in order."""
    assert relayed(LineSplitter(8), b"one\ntwo\n\n") == [b"one", b"two", b""]


def test_oneCarriageReturnBeforeNewlineRemoved() -> None:
    """One C{\\r} before the C{\\n} goes; any other C{\\r} stays."""
    assert relayed(LineSplitter(8), b"a\r\nb\r\r\nc\rd\n") == [b"a", b"b\r", b"c\rd"]


def test_partialLineWaitsForItsEnd() -> None:
    """A line across chunks is handed on once, when its C{\\n} comes."""
    splitter = LineSplitter(8)
    assert relayed(splitter, b"he", b"llo\nwo") == [b"hello"]
    assert splitter.buffered == 2
    assert relayed(splitter, b"rld\n") == [b"world"]


def test_longLineInPieces() -> None:
    """A line longer than the most is handed on in pieces of that size."""
    assert relayed(LineSplitter(4), b"abcdefghij\n") == [b"abcd", b"efgh", b"ij"]


def test_longPartialLineNotBufferedPastTheMost() -> None:
    """
    The leading pieces of a partial line past the most are handed on at
    once; the rest stays buffered, then ends the line.
    """
    splitter = LineSplitter(4)
    assert relayed(splitter, b"abcdefghij") == [b"abcd", b"efgh"]
    assert splitter.buffered == 2
    assert relayed(splitter, b"\n") == [b"ij"]


def test_carriageReturnAtTheMostNotCounted() -> None:
    """
    A line of exactly the most bytes whose C{\\r} and C{\\n} come apart is
    not cut: the C{\\r} may be half of a CRLF.
    """
    splitter = LineSplitter(4)
    assert relayed(splitter, b"abcd\r") == []
    assert relayed(splitter, b"\n") == [b"abcd"]


def test_endedInputEndsThePartialLine() -> None:
    """At the end of the input a partial line counts as ended."""
    splitter = LineSplitter(8)
    splitter.feed(b"one\ntwo")
    splitter.end()
    assert splitter.take(splitter.complete()) == [b"one", b"two"]
    assert splitter.clear() == b""


def test_longCommandRefusedWhole() -> None:
    """
    With commands on, a long line that begins with C{/} is refused whole:
    L{TOO_LONG} once, its rest dropped up to its C{\\n}, the next line as
    it is.
    """
    splitter = LineSplitter(4, commands=True)
    assert relayed(splitter, b"/nick abcdefgh", b"ijkl", b"mn\nnext\n") == [
        TOO_LONG,
        b"next",
    ]


def test_longCommandInOneChunkRefusedWhole() -> None:
    """The same when the whole command comes in one chunk, with others."""
    splitter = LineSplitter(4, commands=True)
    assert relayed(splitter, b"ok\n/abcdefgh\nyes\n") == [b"ok", TOO_LONG, b"yes"]


def test_everyLineRefusedWholeBeforeLogin() -> None:
    """Before a client has an id every long line is refused whole."""
    splitter = LineSplitter(4, commands=True)
    splitter.everyLine = True
    assert relayed(splitter, b"abcdefgh\n") == [TOO_LONG]


def test_slashPieceOfTextEscaped() -> None:
    """
    With commands on, a piece of a long text line that begins with C{/}
    is escaped as C{//}, whether the line came whole or in chunks.
    """
    assert relayed(LineSplitter(4, commands=True), b"abcd/efg\n") == [
        b"abcd",
        b"//efg",
    ]
    assert relayed(LineSplitter(4, commands=True), b"abcd/e", b"fgh/i\n") == [
        b"abcd",
        b"//efg",
        b"h/i",
    ]


def test_withoutCommandsNothingRefusedOrEscaped() -> None:
    """Without commands a long slash line is text: cut, never escaped."""
    assert relayed(LineSplitter(4), b"/abcd/efg\n") == [b"/abc", b"d/ef", b"g"]


def test_affordCountsPieces() -> None:
    """
    A budget of lines lets whole lines through while a line's budget is
    left; a long line costs a line for each of its pieces.
    """
    splitter = LineSplitter(4)
    splitter.feed(b"abcdefghij\nk\nl\n")
    end = splitter.complete()
    assert splitter.afford(end, 1) == (11, 3)
    assert splitter.afford(end, 4) == (13, 4)
    assert splitter.afford(end, 5) == (end, 5)
    assert splitter.afford(end, 0.5) == (0, 0)


def test_affordRefusedCommandCostsOne() -> None:
    """A long command refused whole costs one line."""
    splitter = LineSplitter(4, commands=True)
    splitter.feed(b"/abcdefghij\nk\n")
    assert splitter.afford(splitter.complete(), 2) == (14, 2)


@given(
    st.lists(st.binary(max_size=40), max_size=12),
    st.integers(min_value=1, max_value=9),
)
def test_piecesConcatenateToTheLines(chunks: list[bytes], most: int) -> None:
    """
    Whatever the chunks, read as the protocol reads them: the pieces handed
    on, at most C{most} bytes each, put together give back every line (less
    one C{\\r} before its C{\\n}), and never more than C{most} bytes plus a
    C{\\r} stay buffered.
    """
    splitter = LineSplitter(most)
    pieces: list[bytes] = []
    for chunk in chunks:
        pieces += relayed(splitter, chunk)
        assert splitter.buffered <= most + 1
    splitter.end()
    if splitter.buffered:
        pieces += splitter.take(splitter.complete())
    assert all(len(piece) <= most for piece in pieces)
    data = b"".join(chunks)
    if data and not data.endswith(b"\n"):
        data += b"\n"
    expected = data.replace(b"\r\n", b"\n")
    assert b"".join(piece for piece in pieces) == expected.replace(b"\n", b"")
    assert len(pieces) >= expected.count(b"\n")
