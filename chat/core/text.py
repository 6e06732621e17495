"""
Text for the log and for people: bytes made printable, and counts of things.
"""

from __future__ import annotations


def printable(data: bytes, keep: str = "") -> str:
    """
    C{data} as text for the log: UTF-8 where it decodes, every byte that does
    not and every unprintable character but those in C{keep} escaped
    (C{\\x00}, C{\\xff}, C{\\x09}).
    """
    text = data.decode("utf-8", "backslashreplace")
    if text.isprintable():
        return text
    return "".join(
        char if char.isprintable() or char in keep else _escape(char) for char in text
    )


def plural(count: int, noun: str) -> str:
    """C{count} and C{noun}, with an C{s} unless there is exactly one."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
