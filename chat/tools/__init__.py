"""
The command-line tools shipped with the server: mini_serv, chat-client,
chat-tester and chat-bench.  They share the wire and log formats with the
server, and nothing else.
"""
