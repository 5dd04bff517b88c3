"""`switchyard-kube`: the console script."""

from __future__ import annotations

import asyncio
import json
import logging
import sys

import aiohttp
from aiohttp import web

from . import logs
from .adapter import Adapter, health_app
from .kube import ApiException, KubeClient, load_api_client
from .reconciler import describe
from .settings import Settings, from_args
from .switchyard import Stale, SwitchyardClient, Unavailable

log = logging.getLogger("switchyard_kube")


async def _once(adapter: Adapter, settings: Settings) -> int:
    plan = await adapter.once()
    if settings.dry_run:
        for line in describe(plan):
            print(line)
        print(json.dumps({"dryRun": True, "plan": plan.summary()}))
        return 0
    outcomes = adapter.reconciler.outcomes
    written = sum(n for key, n in outcomes.items() if key.endswith(":ok"))
    summary = {
        "dryRun": False,
        "plan": plan.summary(),
        "writes": written,
        "refused": len(adapter.reconciler.refused),
        "outcomes": dict(outcomes),
    }
    print(json.dumps(summary))
    return 1 if adapter.reconciler.refused else 0


async def _serve(adapter: Adapter, settings: Settings) -> int:
    host, _, port = settings.listen.rpartition(":")
    runner = web.AppRunner(health_app(adapter))
    await runner.setup()
    await web.TCPSite(runner, host or "0.0.0.0", int(port)).start()
    log.info("serving /healthz and /metrics", extra={"listen": settings.listen})
    try:
        await adapter.run()
    finally:
        await runner.cleanup()
    return 0


async def amain(settings: Settings) -> int:
    api_client = await load_api_client(settings.kubeconfig, settings.context)
    kube = KubeClient(api_client)
    switchyard = SwitchyardClient(settings.switchyard_url, settings.token)
    adapter = Adapter(settings, kube, switchyard, echo=print if settings.once else None)
    try:
        if settings.once:
            return await _once(adapter, settings)
        return await _serve(adapter, settings)
    except (Unavailable, Stale) as exc:
        print(f"switchyard-kube: {exc}", file=sys.stderr)
        return 2
    except (ApiException, aiohttp.ClientError, OSError) as exc:  # --once: Kubernetes unreachable
        print(f"switchyard-kube: Kubernetes API: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    finally:
        await switchyard.close()
        await kube.close()


def main(argv: list[str] | None = None) -> None:
    settings = from_args(argv)
    logs.configure(settings.log_level)
    try:
        sys.exit(asyncio.run(amain(settings)))
    except KeyboardInterrupt:
        sys.exit(130)
