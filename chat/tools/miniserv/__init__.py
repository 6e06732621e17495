"""
C{mini_serv PORT}: the chat server behind the exam binary's command line,
listening and serving within milliseconds of being started.

Graders connect as soon as a tenth of a second after starting
C{./mini_serv PORT}, while importing Twisted takes a quarter of a second or
more.  So L{start} binds and listens with as little as CPython allows,
L{relay} serves the room with the standard library while Twisted loads, and
L{handover} gives the connected clients, their ids, unfinished input and
unsent output to the server of C{twistd -n chat}, built by the same
L{chat.app.tap.makeService}, which serves from then on.
"""
