"""
The C{twistd chat} plugin's service: the parts of the server wired together
as the options (L{chat.app.options.Options}) say.
"""

from __future__ import annotations

from typing import Any

from twisted.logger import Logger, LogPublisher

from chat.app.options import Options
from chat.app.owner import ProcessOwner
from chat.app.service import ChatService
from chat.core.interfaces import IHistory, IMetrics, IPeers, IStage
from chat.core.limits import Limits
from chat.core.messages import runStart
from chat.core.metrics import NO_METRICS
from chat.core.peers import LocalPeers
from chat.core.room import ChatRoom
from chat.people.auth import Gatekeeper, passwordPortal
from chat.people.commands import Commands
from chat.people.history import History, historyFor
from chat.people.messages import recordFor
from chat.people.replay import Replay
from chat.tcp.door import TCPDoor

__all__ = ["Options", "makeService"]
"""What twistd looks for in a plugin's module."""


def makeService(
    config: Options, reactor: Any = None, peers: IPeers | None = None
) -> ChatService:
    """
    The chat server that C{config} describes.

    @param peers: who shares the room, when not what C{config} says (a
        server taking over clients numbered elsewhere continues their ids).
    """
    if reactor is None:
        from twisted.internet import reactor
    publisher = LogPublisher()
    log = Logger(namespace="chat", observer=publisher)
    if peers is None:
        peers = _peers(config, log, reactor)
    metrics: IMetrics = NO_METRICS
    exporter = None
    if config["metrics"] is not None:
        # Imported here: Prometheus and twisted.web are needed only for it.
        from chat.app.prometheus import PrometheusMetrics

        metrics = exporter = PrometheusMetrics()
    room = ChatRoom(
        log, reactor, peers, config["max-line"], config["limits"], metrics=metrics
    )
    room.door = TCPDoor(room, reactor)
    room.stages = chatStages(
        room,
        history=_history(int(config["history"]), config["limits"]),
        commands=config["commands"],
        gatekeeper=_gatekeeper(config, log, reactor),
        messages=bool(config["web"]),
        firstId=runStart(),
    )
    service = ChatService(
        room,
        publisher,
        config["logfile"],
        config["log-level"],
        reactor,
        logFormat=config["log-format"],
        logOwner=ProcessOwner.ofTwistd(config),
    )
    for description in config["endpoints"]:
        service.listenOn(description)
    if config["web"]:
        # Imported here: the web's libraries are needed only with --web.
        from chat.web.admission import WebFactory
        from chat.web.site import Features, webSite

        features = Features(
            auth=config["auth"] is not None,
            commands=bool(config["commands"]),
            history=int(config["history"]),
        )
        site = webSite(
            config["web-origins"], log, reactor, features, config["web-hosts"]
        )
        door = WebFactory(site, reactor, room)
        for description in config["web"]:
            service.listenOn(description, door, "web")
    if exporter is not None:
        exporter.watchClients(room.clients)
        if config["redis"] is not None:
            exporter.watchCluster(peers)
        service.listenOn(config["metrics"], exporter.site(reactor), "metrics")
    return service


def chatStages(
    room: ChatRoom,
    history: IHistory | None = None,
    commands: bool = False,
    gatekeeper: Gatekeeper | None = None,
    messages: bool = True,
    firstId: int = 1,
) -> list[IStage]:
    """
    The stages of chat for people that C{room}'s clients go through, at
    every door, in order: the C{history} a newcomer is sent as it enters
    (or, to a client that reads messages and comes back, what it missed)
    comes before the name it logged in with; logins (C{gatekeeper}, which
    imply C{commands}) come before the commands.  With any of them and
    C{messages} (there is a door whose clients may read them: the web's)
    the room makes messages of what it delivers, and keeps a record of
    them, numbered from C{firstId}.  None without those options: the room
    relays every line as it is.
    """
    stages: list[IStage] = []
    if history is None and not commands and gatekeeper is None:
        return stages
    record = None
    if messages:
        record = recordFor(history.size if history else 0, room.limits)
        room.recordMessages(record, firstId)
    if history is not None:
        room.peers.keepHistory(history)
    if history is not None or record is not None:
        stages.append(Replay(room, history, record))
    if commands or gatekeeper is not None:
        runner = Commands(room, room.peers, room.log, logins=gatekeeper is not None)
        if gatekeeper is not None:
            gatekeeper.admit = room.lobby.admit
            gatekeeper.loggedIn = runner.loggedIn
            gatekeeper.metrics = room.metrics
            stages.append(gatekeeper)
        stages.append(runner)
    return stages


def _gatekeeper(config: Options, log: Logger, reactor: Any) -> Gatekeeper | None:
    checker = config.get("checker")
    if checker is None:
        return None
    portal = passwordPortal(checker)
    return Gatekeeper(portal, checker, reactor, log, config["login-timeout"])


def _history(size: int, limits: Limits) -> History | None:
    return historyFor(size, limits) if size else None


def _peers(config: Options, log: Logger, reactor: Any) -> IPeers:
    if config["redis"] is None:
        return LocalPeers()
    # Imported here: Redis is needed only in a cluster.
    from chat.cluster.peers import clusterPeers

    return clusterPeers(config["redis"], config["room"], log, reactor)
