"""Starting and stopping the distribution inside `switchyard-api serve`."""

from __future__ import annotations

import logging
import os
import socket

import grpc
from fastapi import FastAPI

from ..auth import TokenStore
from ..settings import Settings
from ..store.feed import ChangeFeed
from ..store.store import IntentStore
from .hub import DistributionHub
from .intent_state import CompiledState
from .server import DistributionService, build_server, mark_serving
from .status import NodeStatusRecorder

log = logging.getLogger("switchyard.distribution")


class Distribution:
    def __init__(self, hub: DistributionHub, server: grpc.aio.Server, port: int) -> None:
        self.hub = hub
        self.server = server
        self.port = port

    async def stop(self) -> None:
        await self.hub.stop()
        await self.server.stop(grace=1.0)


async def start_distribution(
    app: FastAPI, settings: Settings, store: IntentStore, feed: ChangeFeed
) -> Distribution:
    replica = settings.replica_id or f"{socket.gethostname()}-{os.getpid()}-{id(app) % 10000}"
    hub = DistributionHub(
        CompiledState(store),
        feed,
        NodeStatusRecorder(store, replica),
        catch_up_interval=settings.catch_up_interval,
        metrics=app.state.metrics,
    )
    service = DistributionService(hub, TokenStore(store))
    server, health_servicer, port = build_server(service, settings)
    hub.start()
    await server.start()
    await mark_serving(health_servicer)
    distribution = Distribution(hub, server, port)
    app.state.distribution = distribution
    log.info("distribution on port %d (replica %s)", port, replica)
    return distribution
