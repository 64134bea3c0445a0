"""Operations: liveness, readiness, Prometheus metrics, the OpenAPI document."""

from __future__ import annotations

import os

from aiohttp import web

from .. import __version__
from .http import json_response
from .keys import SERVICE
from .middlewares import requires
from .openapi import openapi_document


@requires(None)
async def healthz(request: web.Request) -> web.Response:
    """The process answers (liveness)."""
    return json_response({"status": "ok", "version": __version__, "pid": os.getpid()})


@requires(None)
async def readyz(request: web.Request) -> web.Response:
    """Ready to answer verdicts: policy loaded, log writable (directly or through the spool).

    Not ready (503, with the reason) while the store's writer is stopped or the store refuses
    writes (a full disk: every check would answer 503 store-unavailable, so a load balancer
    should send them elsewhere); ready again once a write succeeds. Warnings say what an
    operator should fix that does not stop verdicts (Redis without persistence, Redis down
    with records spooling)."""
    service = request.app[SERVICE]
    store = service.store.health()
    state = service.state.health()
    reason = _not_ready(store)
    if reason is not None:
        return json_response({"status": "not-ready", "reason": reason, "store": store,
                              "state": state}, status=503)
    warnings = []
    persistence = str(store.get("persistence", ""))
    if store.get("store") == "redis" and persistence in ("none", ""):
        warnings.append("redis has no persistence (neither AOF nor RDB snapshots): a Redis "
                        "restart loses the log; enable appendonly")
    if store.get("redis") == "down" or store.get("connected") is False:
        warnings.append("redis is unreachable: records are kept in the local spool")
    return json_response({
        "status": "degraded" if warnings else "ready",
        "policy_version": service.policies.current.policy.version,
        "store": store, "state": state, "warnings": warnings,
    })


def _not_ready(store: dict) -> str | None:
    """Why the log cannot take records now (None: it can)."""
    if store.get("writer") == "stopped":
        return "the log store's writer is stopped"
    writes = str(store.get("writes", "ok"))  # "ok" or "refused: <why>"
    if writes != "ok":
        return f"the log store refuses writes: {writes.partition(': ')[2] or writes}"
    return None


@requires(None)
async def metrics(request: web.Request) -> web.Response:
    return web.Response(text=request.app[SERVICE].metrics.render(),
                        content_type="text/plain", charset="utf-8",
                        headers={"X-Content-Type-Options": "nosniff"})


@requires(None)
async def openapi(request: web.Request) -> web.Response:
    return json_response(openapi_document())
