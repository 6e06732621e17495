"""
C{chat-bench}: a load generator for chat servers that speak the mini_serv
protocol, in the spirit of C{redis-benchmark}.

N connections, the first S of which send lines of B bytes, either at a
rate or flat out with at most a window of lines in flight per sender; after
a warm-up, deliveries are counted for a measurement window, then the
senders stop and every receiver must get every line within a drain time.

Each line is C{"<sender> <seq> <send time ns> "} padded with C{x}, as the
benchmark kit's chatload writes it.  To keep up with a server that
delivers millions of lines a second, a receiver does not look at every
line, nor even count them.  A relayed line from a sender is always
C{client ID: } plus its payload and newline, so its length is known once
the sender's id is; a receiver adds up the bytes it receives, less those
of server notices (found with a single-byte search, see L{noticeLines}),
and turns bytes into lines at the end.  It parses only the last complete
line of each chunk, which gives a latency sample and a sequence number to
check the order per (receiver, sender) against.  Losses are checked
exactly at the end: every receiver must have received, to the byte, every
line of every other sender.  One connection per worker, the probe, parses
every line: it learns the senders' ids, and its progress is what the
senders' windows are measured against.

The work can be shared by several processes (C{--workers}), each with a
share of the connections and its own reactor; a coordinator, without a
reactor, starts them, tells them when to start sending and what to
expect, and merges their results.  Connections are spread over the
C{--target} servers in turn, taken to be nodes of one room (a cluster).

The parts: L{options} (the command line), L{framing} (the lines sent and
what is read from the lines received), L{connections} (the connections of
a worker), L{worker} (a worker process), L{stats} (what is counted and its
percentiles), L{coordinator} (the process that runs the workers),
L{report} (the figures, for people or as JSON) and L{command} (the
program).
"""
