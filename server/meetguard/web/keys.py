"""The keys under which the application and each request keep their state.

A module of its own that imports no other module of `web/`: handlers, middlewares, routes and the
app factory all import it, so the package reads top down with no import circle (a test checks).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from .console import Console
    from .console_sessions import Session
    from .extension_files import PackDirectory
    from .middlewares import Caller
    from .service import Service

SERVICE: web.AppKey[Service] = web.AppKey("service")
"""The service's shared state (`service.Service`)."""
CONSOLE: web.AppKey[Console] = web.AppKey("console")
"""The admin page's sessions, files and syslog forwarder."""
PACKS: web.AppKey[PackDirectory] = web.AppKey("extension_packs")
"""The packed extension served at /extension/ (setting `extension_dir`)."""
CALLER: web.RequestKey[Caller] = web.RequestKey("caller")
"""Who made the request (set by the authentication middleware)."""
SESSION: web.RequestKey[Session] = web.RequestKey("console_session")
"""The admin page session of the request (console API)."""
