"""
Browsers in the room: a page and a WebSocket, served through C{twisted.web}
(L{chat.web.site}).  A browser joins the room as a
L{chat.tcp.protocol.ChatProtocol}, as a TCP client does, over the transport of
L{chat.web.transport}.
"""
