"""Every route in one place."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from . import admin_api, api, console, console_api, ops, reports
from .extension_files import setup_extension_files
from .keys import SERVICE

ROUTES = (
    ("POST", "/v1/links/check", api.check_links),
    ("POST", "/v1/files/check", api.check_file),
    ("PUT", "/v1/files/{sha256}/content", api.upload_file),
    ("POST", "/v1/events", api.report_events),
    ("GET", "/v1/policy", api.get_policy),
    ("GET", "/v1/logs", admin_api.get_logs),
    ("GET", "/v1/stats", admin_api.get_stats),
    ("GET", "/v1/reports/people", reports.get_people),
    ("GET", "/v1/admin/signatures", admin_api.get_signatures),
    ("POST", "/v1/admin/reload", admin_api.reload_signatures),
    ("POST", "/v1/admin/retrohunt", admin_api.retrohunt),
    ("GET", "/healthz", ops.healthz),
    ("GET", "/readyz", ops.readyz),
    ("GET", "/metrics", ops.metrics),
    ("GET", "/openapi.json", ops.openapi),
)
CONSOLE_ROUTES = (
    ("GET", "/admin", console.page),
    ("GET", "/admin/", console.page),
    ("GET", console.STATIC_PREFIX + "{name:[A-Za-z0-9_.-]+}", console.static),
    *((method, "/admin/api" + path, handler) for method, path, handler in console_api.ROUTES),
)
"""The admin page and its private API (not API v1: not in ROUTES)."""


def setup_routes(app: web.Application) -> None:
    for method, path, handler in ROUTES + CONSOLE_ROUTES:
        app.router.add_route(method, path, handler)
    console.setup_console(app)
    directory = app[SERVICE].settings.extension_dir
    if directory:  # the packed extension for browsers' update checks (not API v1 either)
        setup_extension_files(app, Path(directory))
