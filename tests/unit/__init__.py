"""
The fast tests: everything in memory (Twisted's string transports, memory
reactor and clock), no process started and no socket opened.
"""
