from twisted.application.service import ServiceMaker

Chat = ServiceMaker(
    "chat",
    "chat.app.tap",
    "A line-based broadcast chat server, byte-compatible with mini_serv.",
    "chat",
)
