"""The IT console: the admin page at `/admin`, its JSON API under `/admin/api/`, and the
syslog forwarder (SIEM hand-off) when the `syslog` setting names a target.

The page is static HTML, CSS and JavaScript modules served from `static/console/` under a
strict Content-Security-Policy (scripts and styles from this origin only, no inline code, and
Trusted Types enforced, so no string can ever become markup). It signs in with an admin token
and then works with an HttpOnly, SameSite=Strict session cookie; state-changing requests also
carry the session's CSRF token in a header and must come from this origin.

These routes live outside `routes.ROUTES` (which is the public API v1, documented in OpenAPI):
the console API is the page's private API and changes with the page.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import logging
import mimetypes
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from ..siem import Forwarder, LeaderLock, SyslogSender, parse_target, run_forwarder
from ..store.base import LogQuery
from ..timefmt import parse_zone
from .console_sessions import Session, SessionStore, SessionStoreError, session_store
from .keys import CONSOLE, SERVICE, SESSION
from .middlewares import requires
from .page_headers import CONSOLE_PATH
from .problems import ProblemError

log = logging.getLogger("meetguard.console")

COOKIE = "meetguard_console"
COOKIE_PATH = CONSOLE_PATH
CSRF_HEADER = "X-CSRF-Token"
STATIC_PREFIX = "/admin/static/"
_TYPES = {".js": "text/javascript", ".css": "text/css", ".html": "text/html",
          ".svg": "image/svg+xml"}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True, slots=True)
class Asset:
    body: bytes
    content_type: str
    etag: str


@dataclass
class Console:
    """The console's own state: sessions and the page's files."""

    sessions: SessionStore
    assets: dict[str, Asset] = field(default_factory=dict)
    forwarder: tuple[Forwarder, LeaderLock, asyncio.Task[None]] | None = None


def load_assets() -> dict[str, Asset]:
    """Every file of the page, read once (a few kB); names are flat, no sub-folders."""
    folder = resources.files("meetguard.web") / "static" / "console"
    assets = {}
    for entry in folder.iterdir():
        if entry.is_file() and Path(entry.name).suffix in _TYPES:
            body = entry.read_bytes()
            kind = _TYPES.get(Path(entry.name).suffix) or mimetypes.guess_type(entry.name)[0]
            charset = "; charset=utf-8" if kind != "image/svg+xml" else ""
            assets[entry.name] = Asset(body, f"{kind}{charset}",
                                       '"' + hashlib.sha256(body).hexdigest()[:16] + '"')
    return assets


# -- sessions and CSRF ---------------------------------------------------------------------------


def same_origin(request: web.Request) -> bool:
    """True unless the browser says the request comes from another site.

    `Sec-Fetch-Site` and `Origin` are set by browsers and cannot be forged by a page; tools
    that send neither (curl) still need the CSRF token of a session they hold.
    """
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None and site not in ("same-origin", "none"):
        return False
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    if origin == "null":
        return False
    # Behind a reverse proxy the Host may be the proxy's upstream; the proxy names the public
    # host in X-Forwarded-Host (a header no cross-site page can make a browser send).
    hosts = {request.host.lower()}
    hosts.update(h.strip().lower() for h in request.headers.get("X-Forwarded-Host", "").split(",")
                 if h.strip())
    return urlsplit(origin).netloc.lower() in hosts


async def current_session(request: web.Request) -> Session | None:
    try:
        return await request.app[CONSOLE].sessions.get(request.cookies.get(COOKIE))
    except SessionStoreError as exc:
        log.warning("%s", exc)
        raise ProblemError("store-unavailable", "sessions cannot be read right now") from None


def signed_in(*, csrf: bool) -> Callable[[Handler], Handler]:
    """The handler needs a live session; with `csrf`, also this origin and the CSRF token."""
    def wrap(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def guarded(request: web.Request) -> web.StreamResponse:
            session = await current_session(request)
            if session is None:
                raise ProblemError("unauthorized", "sign in to the admin page")
            if csrf:
                if not same_origin(request):
                    raise ProblemError("forbidden", "cross-site request refused")
                if not session.csrf_ok(request.headers.get(CSRF_HEADER)):
                    raise ProblemError("forbidden", f"missing or wrong {CSRF_HEADER}: reload "
                                                    "the page")
            request[SESSION] = session
            return await handler(request)
        # The bearer-token middleware lets it through; the session check above is the gate.
        return requires(None)(guarded)
    return wrap


def secure_request(request: web.Request) -> bool:
    """Whether the page was reached over HTTPS (directly or through a TLS proxy)."""
    if request.app[SERVICE].settings.secure_cookies == "always" or request.secure:
        return True
    forwarded = request.headers.get("X-Forwarded-Proto", "")
    return forwarded.split(",")[0].strip().lower() == "https"


def set_session_cookie(request: web.Request, response: web.StreamResponse,
                       session: Session) -> None:
    response.set_cookie(COOKIE, session.id, max_age=int(session.expires - session.created),
                        path=COOKIE_PATH, httponly=True, samesite="Strict",
                        secure=secure_request(request))


def clear_session_cookie(request: web.Request, response: web.StreamResponse) -> None:
    response.set_cookie(COOKIE, "", max_age=0, expires="Thu, 01 Jan 1970 00:00:00 GMT",
                        path=COOKIE_PATH, httponly=True, samesite="Strict",
                        secure=secure_request(request))


# -- the page ------------------------------------------------------------------------------------


@requires(None)
async def page(request: web.Request) -> web.Response:
    """The single page; it asks `/admin/api/session` whether to show sign-in or the console."""
    return _asset_response(request, "index.html", cache="no-store")


@requires(None)
async def static(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    if name == "index.html":
        raise web.HTTPNotFound()
    return _asset_response(request, name, cache="no-cache")


def _asset_response(request: web.Request, name: str, *, cache: str) -> web.Response:
    asset = request.app[CONSOLE].assets.get(name)
    if asset is None:
        raise web.HTTPNotFound()
    headers = {"ETag": asset.etag, "Cache-Control": cache}
    if request.headers.get("If-None-Match") == asset.etag and cache != "no-store":
        return web.Response(status=304, headers=headers)
    return web.Response(body=asset.body, headers={**headers, "Content-Type": asset.content_type})


# -- SIEM forwarder ------------------------------------------------------------------------------


async def _start_forwarder(app: web.Application) -> None:
    service = app[SERVICE]
    target = service.settings.syslog
    if not target:
        return

    zone = parse_zone(service.settings.time_zone)

    async def fetch(since: float) -> list[dict[str, Any]]:  # (records as the API answers them)
        return [r.to_dict(zone) async for r in service.store.export(LogQuery(since=since))]

    data_dir = Path(service.settings.data_dir)
    forwarder = Forwarder(fetch, SyslogSender(parse_target(target)),
                          position=data_dir / "syslog.position", interval=0.5)
    lock = LeaderLock(data_dir / "syslog.lock")
    task = asyncio.create_task(run_forwarder(forwarder, lock), name="meetguard-syslog")
    app[CONSOLE].forwarder = (forwarder, lock, task)


async def _stop_forwarder(app: web.Application) -> None:
    """Stop polling, then send what the last moments logged (bounded: shutdown must end)."""
    if app[CONSOLE].forwarder is None:
        return
    forwarder, lock, task = app[CONSOLE].forwarder
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    if lock.acquire():
        try:
            await asyncio.wait_for(forwarder.step(), 3.0)
        except Exception as exc:
            log.warning("syslog: last records not forwarded at shutdown: %s", exc)
        finally:
            lock.release()
            await forwarder.sender.close()


# -- wiring --------------------------------------------------------------------------------------


def setup_console(app: web.Application) -> None:
    """The admin page's state and the syslog forwarder on the service's app (its routes are
    in `routes.py`)."""
    app[CONSOLE] = Console(session_store(app[SERVICE].settings), load_assets())
    app.on_startup.append(_start_forwarder)
    app.on_shutdown.append(_stop_forwarder)
    app.on_cleanup.append(_close_sessions)


async def _close_sessions(app: web.Application) -> None:
    await app[CONSOLE].sessions.close()
