"""Self-hosting the packed extension (`extension_dir`): Chromium's update manifest and CRX,
Firefox's update manifest and XPI. No authentication: browsers fetch these before the
extension, and its client key, exist.

The directory is what `meetguard extension pack` wrote; its pack.json is read again whenever
it changes, so a new pack rolls browsers forward at their next update check, with no restart.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from ..extension_kit import (
    CRX_NAME,
    PACK_FILE,
    XPI_NAME,
    KitError,
    Pack,
    chromium_update_manifest,
    firefox_update_manifest,
    read_pack,
)
from .keys import PACKS
from .middlewares import requires
from .problems import ProblemError

PREFIX = "/extension/"
CRX_TYPE = "application/x-chrome-extension"
XPI_TYPE = "application/x-xpinstall"


@dataclass(frozen=True, slots=True)
class Hosted:
    """One pack as served: its description and files (small: held in memory)."""

    stamp: tuple[int, int]
    pack: Pack
    files: dict[str, bytes]


class PackDirectory:
    """The pack in `directory`, reloaded when pack.json changes."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._hosted: Hosted | None = None

    def current(self) -> Hosted:
        try:
            info = (self.directory / PACK_FILE).stat()
        except OSError:
            raise ProblemError("not-found", "no extension has been packed into extension_dir "
                               "yet (meetguard extension pack)") from None
        stamp = (info.st_mtime_ns, info.st_size)
        if self._hosted is None or self._hosted.stamp != stamp:
            self._hosted = self._load(stamp)
        return self._hosted

    def _load(self, stamp: tuple[int, int]) -> Hosted:
        try:
            pack = read_pack(self.directory)
            files = {name: (self.directory / name).read_bytes() for name in (pack.crx, pack.xpi)}
        except (KitError, OSError) as exc:
            raise ProblemError("not-found", f"the extension pack cannot be served: {exc}") \
                from None
        return Hosted(stamp, pack, files)




def setup_extension_files(app: web.Application, directory: Path) -> None:
    """Register the routes (only when `extension_dir` is set)."""
    app[PACKS] = PackDirectory(directory)
    app.router.add_get(PREFIX + "updates.xml", chromium_updates)
    app.router.add_get(PREFIX + "updates.json", firefox_updates)
    app.router.add_get(PREFIX + "{name:[A-Za-z0-9_.-]+}", pack_file)


def _base(request: web.Request) -> str:
    """This service's URL as the browser reached it (a TLS proxy says so in
    X-Forwarded-Proto)."""
    forwarded = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
    scheme = forwarded if forwarded in ("http", "https") else request.scheme
    return f"{scheme}://{request.host}{PREFIX}"


def _answer(request: web.Request, body: bytes, content_type: str) -> web.Response:
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {"ETag": etag, "Cache-Control": "no-cache"}
    asked = request.headers.get("If-None-Match", "")
    if etag in {t.strip().removeprefix("W/") for t in asked.split(",")}:
        return web.Response(status=304, headers=headers)
    return web.Response(body=body, content_type=content_type, headers=headers)


@requires(None)
async def chromium_updates(request: web.Request) -> web.Response:
    hosted = request.app[PACKS].current()
    body = chromium_update_manifest(hosted.pack.id, hosted.pack.version,
                                    _base(request) + hosted.pack.crx)
    return _answer(request, body, "application/xml")


@requires(None)
async def firefox_updates(request: web.Request) -> web.Response:
    pack = request.app[PACKS].current().pack
    body = firefox_update_manifest(pack.gecko_id, pack.version, _base(request) + pack.xpi,
                                   pack.xpi_sha256)
    return _answer(request, body, "application/json")


@requires(None)
async def pack_file(request: web.Request) -> web.Response:
    """A pack by its versioned name, or the newest one as meetguard.crx / meetguard.xpi."""
    hosted = request.app[PACKS].current()
    name = request.match_info["name"]
    name = {CRX_NAME: hosted.pack.crx, XPI_NAME: hosted.pack.xpi}.get(name, name)
    if name not in hosted.files:
        raise ProblemError("not-found", f"{PREFIX}{name} is not in the current pack")
    content_type = CRX_TYPE if name.endswith(".crx") else XPI_TYPE
    return _answer(request, hosted.files[name], content_type)
