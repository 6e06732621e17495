"""
chat: a line-based broadcast chat server on Twisted, byte-compatible with
the classic C C{mini_serv}.

This module stays empty: C{mini_serv} imports the package before it listens.
"""
