"""
The message core: the room, its clients' write and read paths, the limits
that hold at every door, and the seams the rest of the server plugs into.
It imports nothing of the other packages.
"""
