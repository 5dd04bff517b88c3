"""Starting and stopping the distribution inside `switchyard-api serve`."""

from __future__ import annotations

import asyncio
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
from .liveness import ReplicaLiveness
from .revocation import RevocationWatch
from .server import DistributionService, build_server, mark_serving
from .status import NodeStatusRecorder

log = logging.getLogger("switchyard.distribution")


class Distribution:
    def __init__(
        self,
        hub: DistributionHub,
        server: grpc.aio.Server,
        port: int,
        liveness: ReplicaLiveness,
        revocations: RevocationWatch,
    ) -> None:
        self.hub = hub
        self.server = server
        self.port = port
        self.liveness = liveness
        self.revocations = revocations

    async def stop(self) -> None:
        await self.hub.stop()
        await self.server.stop(grace=1.0)
        try:
            await asyncio.to_thread(self.liveness.retire)
        except Exception as exc:  # the database is away: others age the counter out
            log.warning("could not remove this replica's heartbeat: %s", exc)


async def start_distribution(
    app: FastAPI, settings: Settings, store: IntentStore, feed: ChangeFeed
) -> Distribution:
    replica = settings.replica_id or f"{socket.gethostname()}-{os.getpid()}-{id(app) % 10000}"
    recorder = NodeStatusRecorder(store, replica)
    hub = DistributionHub(
        CompiledState(store),
        feed,
        recorder,
        catch_up_interval=settings.catch_up_interval,
        metrics=app.state.metrics,
    )
    tokens = TokenStore(store)
    service = DistributionService(hub, tokens)
    server, health_servicer, port = build_server(service, settings)
    liveness = ReplicaLiveness(
        store,
        recorder,
        replica,
        interval=settings.replica_heartbeat_interval,
        timeout=settings.replica_timeout,
    )
    revocations = RevocationWatch(hub.sessions, tokens, feed, settings.catch_up_interval)
    try:  # the counter exists before any stream does (see liveness.py)
        await asyncio.to_thread(liveness.beat)
    except Exception as exc:  # the database is away: the heartbeat task retries
        log.warning("first replica heartbeat failed: %s", exc)
    hub.start(liveness.run, revocations.run)
    await server.start()
    await mark_serving(health_servicer)
    distribution = Distribution(hub, server, port, liveness, revocations)
    app.state.distribution = distribution
    log.info("distribution on port %d (replica %s)", port, replica)
    return distribution
