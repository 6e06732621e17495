"""
Cluster mode (SPEC section 6): several server processes share one room
through a Redis server.
"""
