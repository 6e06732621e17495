"""
The live tests: real loopback sockets and processes (twistd, the tools,
Redis, a real browser). Every test here is marked C{live}.
"""
