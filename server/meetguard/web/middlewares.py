"""Middlewares: every failure becomes one problem shape; timing; who is calling.

One middleware, `guard`: it reads the role a route requires from its handler (`requires`), so
a route cannot be added without saying who may use it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, NamedTuple

import orjson
from aiohttp import web

from ..store.base import StoreError
from .auth import Credential, Role
from .keys import CALLER, SERVICE
from .page_headers import add_console_headers, is_console
from .problems import CONTENT_TYPE, PROBLEMS, ProblemError, problem_body
from .validate import install_id, user_label

log = logging.getLogger("meetguard.service")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Caller(NamedTuple):
    """Who made a request: the key's credential, the install id and the optional user label.
    (A NamedTuple: one per request, built in a third of a frozen dataclass's time.)"""

    credential: Credential
    install: str
    user: str | None




def requires(role: Role | None) -> Callable[[Handler], Handler]:
    """Mark a handler with the role it needs (None: open, like /healthz)."""
    def mark(handler: Handler) -> Handler:
        handler.meetguard_role = role  # type: ignore[attr-defined]
        return handler
    return mark


def caller(request: web.Request) -> Caller:
    return request[CALLER]


def problem_response(request: web.Request, slug: str, detail: str = "",
                     headers: dict[str, str] | None = None, **extra: Any) -> web.Response:
    body = problem_body(slug, detail, request.path, **extra)
    return web.Response(status=body["status"], body=orjson.dumps(body),
                        content_type=CONTENT_TYPE, headers=headers)


_HTTP_SLUGS = {404: "not-found", 405: "method-not-allowed", 413: "body-too-large",
               415: "unsupported-media-type", 406: "not-acceptable"}
_STORE_SLUGS = {"store-unavailable": "store-unavailable", "spool-full": "spool-full",
                "store-closed": "store-unavailable", "store-write-failed": "store-unavailable",
                "invalid-cursor": "invalid-cursor", "invalid-query": "invalid-parameter"}


@web.middleware
async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Who is calling (401, 403, 429), one problem+json shape for every failure (no traceback
    ever leaves), and the request's metrics. One middleware, not three: each layer costs every
    request a coroutine and a wrapper."""
    started = time.perf_counter()
    try:
        role = getattr(request.match_info.handler, "meetguard_role", None)
        if role is not None:
            await _authenticate(request, role)
        response = await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            _finish(request, exc, started)
            raise  # a redirect is an answer, not a failure
        response = _http_problem(request, exc)
    except Exception as exc:
        response = _problem_of(request, exc)
    _finish(request, response, started)
    return response


def _finish(request: web.Request, response: web.StreamResponse, started: float) -> None:
    if not response.prepared and is_console(request.path):
        add_console_headers(request.path, response.headers)
    _observe(request, response.status, started)


def _http_problem(request: web.Request, exc: web.HTTPException) -> web.Response:
    slug = _HTTP_SLUGS.get(exc.status)
    if slug is None:
        slug = "invalid-request" if exc.status < 500 else "internal"
    headers = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None
    return problem_response(request, slug, exc.text if slug == "body-too-large" else "", headers)


def _problem_of(request: web.Request, exc: Exception) -> web.Response:
    if isinstance(exc, ProblemError):
        return problem_response(request, exc.slug, exc.detail, exc.headers, **exc.extra)
    if isinstance(exc, StoreError):
        slug = _STORE_SLUGS.get(exc.code, "store-unavailable")
        if PROBLEMS[slug][0] >= 500:
            request.app[SERVICE].store_errors.warning("store error on %s: %s", request.path, exc)
        return problem_response(request, slug, exc.message)
    log.exception("unexpected error on %s %s", request.method, request.path, exc_info=exc)
    return problem_response(request, "internal", "The error was logged.")


def _observe(request: web.Request, status: int, started: float) -> None:
    route = request.match_info.route.resource
    name = route.canonical if route is not None else "unmatched"
    request.app[SERVICE].metrics.request(name, status, time.perf_counter() - started)


async def _authenticate(request: web.Request, role: Role) -> None:
    service = request.app[SERVICE]
    headers = request.headers
    presented = (headers.get("Authorization", ""), headers.get("X-MeetGuard-Install"),
                 headers.get("X-MeetGuard-User"))
    known = service.callers.get(presented)
    if known is None:
        known = _identify(service, presented[0], role, headers)
        if len(service.callers) >= MAX_KNOWN_CALLERS:
            service.callers.clear()
        service.callers[presented] = known
    else:
        _check_role(known[0].credential, role)
    who, client = known
    request[CALLER] = who
    if role is Role.CLIENT:
        allowed = _rate_limit_nowait(service, client)
        if allowed is None:
            allowed = await _rate_limit(service, client)
        if not allowed:
            raise ProblemError("rate-limited", "slow down and retry after a minute",
                               headers={"Retry-After": "60"})


MAX_KNOWN_CALLERS = 4096
"""Callers remembered by their exact headers (`Service.callers`), so a client's every request
is not hashed, compared and validated again (in the service that was ~5 us of ~95 a verdict).
Only headers that passed the constant-time check are remembered; any other goes through it. A
remembered entry is found by a dict lookup, whose timing can only tell apart headers already
sent by someone holding the key (reaching a string comparison takes a 64-bit hash collision
under the process's secret hash seed)."""


def _identify(service: Any, authorization: str, role: Role,
              headers: Mapping[str, str]) -> tuple[Caller, str]:
    """The caller the headers name (401, 403 or 400 if they do not), and its rate-limit key."""
    scheme, _, token = authorization.partition(" ")
    credential = service.keys.identify(token.strip()) if scheme.lower() == "bearer" else None
    if credential is None:
        raise ProblemError("unauthorized", "send Authorization: Bearer <key>",
                           headers={"WWW-Authenticate": 'Bearer realm="meetguard"'})
    _check_role(credential, role)  # before the other headers: a wrong key is 403, not 400
    install = install_id(headers, credential.name)
    return Caller(credential, install, user_label(headers)), f"{credential.name}/{install}"


def _check_role(credential: Credential, role: Role) -> None:
    if credential.role is not role:
        raise ProblemError("forbidden", f"a {credential.role.value} key cannot use this route")


# Rate limiting fails open: verdicts matter more than fairness while Redis is down.


def _rate_limit_nowait(service: Any, client: str) -> bool | None:
    """The rate limit's answer when it is in hand (in process, or a token Redis granted
    earlier: no coroutine, no round trip); None when the shared state must be asked."""
    try:
        return service.state.rate_limit_nowait(client, service.settings.rate_limit_per_minute,
                                               60.0)
    except StoreError as exc:
        log.warning("rate limit not checked: %s", exc)
        return True


async def _rate_limit(service: Any, client: str) -> bool:
    try:
        return await service.state.rate_limit(client, service.settings.rate_limit_per_minute,
                                              60.0)
    except StoreError as exc:
        log.warning("rate limit not checked: %s", exc)
        return True


def middlewares() -> list[Any]:
    return [guard]
