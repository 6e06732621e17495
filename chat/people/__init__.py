"""
Chat for people: logins, commands, names and history, the stages a room
runs its clients' lines through when chat options are given.
"""
