"""Service settings: declared once, loaded from a config file, the environment and flags,
validated at start-up with messages that say how to fix them.

Precedence, lowest first: defaults, the TOML config file (`--config` / `MEETGUARD_CONFIG`),
`MEETGUARD_*` environment variables, command-line flags. Every setting is documented in the
README (a test checks it).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import MeetGuardError


class StartupError(MeetGuardError):
    """A setting is wrong; the message names it and says how to fix it."""

    code = "startup"


@dataclass(frozen=True, slots=True)
class Setting:
    name: str
    default: Any
    parse: Callable[[str], Any]
    help: str

    @property
    def env(self) -> str:
        return "MEETGUARD_" + self.name.upper()


def _int_range(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        value = int(str(text).strip())
        if not low <= value <= high:
            raise ValueError(f"must be between {low} and {high}")
        return value
    return parse


def _float_range(low: float, high: float) -> Callable[[str], float]:
    def parse(text: str) -> float:
        value = float(str(text).strip())
        if not low <= value <= high:
            raise ValueError(f"must be between {low} and {high}")
        return value
    return parse


def _choice(*choices: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        value = str(text).strip().lower()
        if value not in choices:
            raise ValueError(f"must be one of {', '.join(choices)}")
        return value
    return parse


def _bool(text: str) -> bool:
    value = str(text).strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError("must be true or false")


def _list(text: str | list[str]) -> tuple[str, ...]:
    items = text if isinstance(text, list) else str(text).split(",")
    return tuple(i.strip() for i in items if str(i).strip())


def _path(text: str) -> Path:
    return Path(str(text)).expanduser()


def _optional(text: str) -> str | None:
    value = str(text).strip()
    return value or None


def _syslog(text: str) -> str | None:
    from .siem import SyslogError, parse_target

    value = _optional(text)
    if value is not None:
        try:
            parse_target(value)
        except SyslogError as exc:
            raise ValueError(str(exc).removeprefix(f"syslog target {value!r} ")) from None
    return value


def _zone(text: str) -> str:
    from .timefmt import parse_zone

    parse_zone(text)  # ValueError with the reason
    return str(text).strip()


MB = 1024 * 1024

SETTINGS: tuple[Setting, ...] = (
    Setting("host", "127.0.0.1", str, "Address to listen on."),
    Setting("port", 8080, _int_range(0, 65535), "TCP port to listen on (0: any free port)."),
    Setting("data_dir", Path("data"), _path,
            "Directory for the SQLite log, generated key hashes and the Redis spool."),
    Setting("signatures", None, _optional,
            "Signatures directory (default: the bundled one)."),
    Setting("workers", 1, _int_range(1, 64),
            "Processes accepting on one shared listening socket. Use Redis to share state."),
    Setting("client_keys", (), _list,
            "Comma-separated client keys for extensions, each `name:key` or just `key`."),
    Setting("admin_tokens", (), _list,
            "Comma-separated admin tokens for IT (logs, stats, reload, admin page)."),
    Setting("redis_url", None, _optional,
            "redis://host:port/db (or redis+cluster://host:port) to share state; unset: SQLite."),
    Setting("redis_timeout", 0.25, _float_range(0.01, 10),
            "Seconds a Redis operation may take before the service stops waiting for it."),
    Setting("spool_max_bytes", 64 * MB, _int_range(MB, 64 * 1024 * MB),
            "Bound of the local spool that keeps records while Redis is unreachable."),
    Setting("time_zone", "UTC", _zone,
            "IANA time zone of the times shown beside epoch seconds (CSV, NDJSON, API, CLI)."),
    Setting("retention_days", 180, _int_range(1, 3650), "Days log records are kept."),
    Setting("sqlite_synchronous", "normal", _choice("normal", "full"),
            "SQLite durability: normal survives a killed process, full also a power cut."),
    Setting("sqlite_inbox_rows", 1_000_000, _int_range(1000, 100_000_000),
            "SQLite records waiting to be indexed before indexing runs under load too."),
    Setting("max_body_bytes", 1 * MB, _int_range(1024, 64 * MB),
            "Largest JSON request body."),
    Setting("max_urls_per_batch", 100, _int_range(1, 10000), "Most URLs in one check request."),
    Setting("max_events_per_batch", 100, _int_range(1, 10000),
            "Most events in one events request."),
    Setting("max_upload_bytes", 32 * MB, _int_range(1024, 1024 * MB),
            "Largest file content upload scanned."),
    Setting("max_concurrent_scans", 2, _int_range(1, 64),
            "File content scans running at once; more wait briefly, then get 503."),
    Setting("content_scanning", True, _bool,
            "Ask extensions for the bytes of files whose hash is unknown, and scan them."),
    Setting("scan_cache_seconds", 7 * 86400, _int_range(60, 365 * 86400),
            "How long a content scan result is reused for the same file."),
    Setting("rate_limit_per_minute", 1200, _int_range(1, 10_000_000),
            "Requests per minute per client install (0 is not allowed; raise it instead)."),
    Setting("log_hover_allows", False, _bool,
            "Store hover verdicts that allow one by one (otherwise they are only counted)."),
    Setting("webmail_hosts", ("mail.google.com", "outlook.office.com", "outlook.office365.com",
                              "outlook.live.com"), _list,
            "Hosts (host or host:port) where the extension checks links on hover."),
    Setting("fail_mode", "open", _choice("open", "closed"),
            "What the extension does when the service cannot be reached."),
    Setting("log_level", "info", _choice("debug", "info", "warning", "error"),
            "Level of the service's own JSON log lines on stderr."),
    Setting("access_log", False, _bool, "Log every HTTP request (JSON lines on stderr)."),
    Setting("session_minutes", 480, _int_range(5, 7 * 24 * 60),
            "Lifetime of an admin page session (minutes) before signing in again."),
    Setting("secure_cookies", "auto", _choice("auto", "always"),
            "Admin page cookie `Secure` flag: auto (when the request came over HTTPS or "
            "X-Forwarded-Proto says https) or always (behind a TLS proxy that does not say)."),
    Setting("syslog", None, _syslog,
            "Forward every log record to a SIEM: udp://host:port or tcp://host:port "
            "(RFC 5424, JSON payload); unset: off."),
    Setting("retrohunt_days", 7, _int_range(0, 3650),
            "Days of the log re-checked with the new signatures after each reload (0: off)."),
    Setting("retrohunt_workers", 2, _int_range(0, 64),
            "Processes a retro-hunt classifies in (0: a thread of the service)."),
    Setting("extension_dir", None, _optional,
            "Directory `meetguard extension pack` wrote: served, without a key, at /extension/ "
            "(update manifests, CRX, XPI); unset: not served."),
    Setting("tls_cert", None, _optional,
            "PEM certificate chain: serve HTTPS (with tls_key); reloaded on SIGHUP."),
    Setting("tls_key", None, _optional, "PEM private key of tls_cert."),
    Setting("config", None, _optional, "A TOML file with any of these settings."),
)
_BY_NAME = {s.name: s for s in SETTINGS}


@dataclass(frozen=True)
class Settings:
    """Validated settings; `values` holds every setting by name."""

    values: Mapping[str, Any] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(name) from None


def load_settings(
    flags: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Settings from defaults < config file < environment < `flags`; StartupError if invalid."""
    environ = os.environ if environ is None else environ
    flags = {k: v for k, v in (flags or {}).items() if v is not None}
    values = {s.name: s.default for s in SETTINGS}
    config = flags.get("config") or environ.get("MEETGUARD_CONFIG")
    if config:
        values.update(_from_file(Path(config)))
        values["config"] = str(config)
    for setting in SETTINGS:
        if setting.env in environ:
            values[setting.name] = _parse(setting, environ[setting.env], f"${setting.env}")
    for name, value in flags.items():
        setting = _BY_NAME[name]
        values[name] = value if not isinstance(value, str) else _parse(setting, value,
                                                                       f"--{name}")
    return Settings(values)


def _from_file(path: Path) -> dict[str, Any]:
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise StartupError(f"config file {path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise StartupError(f"config file {path}: {exc}") from None
    out = {}
    for key, raw in document.items():
        setting = _BY_NAME.get(key)
        if setting is None or key == "config":
            raise StartupError(f"config file {path}: unknown setting {key!r} "
                               f"(known: {', '.join(sorted(_BY_NAME))})")
        out[key] = _parse(setting, raw, f"{path}: {key}")
    return out


def _parse(setting: Setting, raw: Any, where: str) -> Any:
    if isinstance(raw, bool) and setting.parse is not _bool:
        raw = str(raw).lower()
    try:
        return setting.parse(raw if isinstance(raw, list) else str(raw))
    except (ValueError, TypeError) as exc:
        raise StartupError(f"{where} = {raw!r}: {setting.name} {exc}. {setting.help}") from None
