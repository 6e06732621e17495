"""
chat: a line-based broadcast chat server on Twisted, byte-compatible with
the classic C C{mini_serv}.
"""

__version__ = "0.1.0"
