"""
What the tests share: fakes that stand in for Redis and the reactor, and the
helpers that start the server, the tools, Redis and a browser's socket.
"""
