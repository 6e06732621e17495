"""
The TCP front door: a connection's bytes turned into whole lines for the
room, and the room's bytes written back.
"""
