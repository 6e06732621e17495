"""
Browsers in the room: a page and a WebSocket (L{chat.web.site}), served by
the door's own protocols on h11 and wsproto (L{chat.web.http},
L{chat.web.socket}).  A browser joins the room as a
L{chat.tcp.protocol.ChatProtocol}, as a TCP client does, over the transport of
L{chat.web.transport}.
"""
