"""The security headers of the IT console (`/admin`): on every answer under it, errors too.

Set by the `guard` middleware on answers handlers return, and by the streamed exports before
they start (a streamed answer's headers are gone once it is prepared). Not an
`on_response_prepare` signal: that costs every verdict answer a coroutine to say "not mine".
"""

from __future__ import annotations

from collections.abc import MutableMapping

CONSOLE_PATH = "/admin"
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
       "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
       "require-trusted-types-for 'script'; trusted-types 'none'")
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


def is_console(path: str) -> bool:
    return path.startswith(CONSOLE_PATH) and (len(path) == len(CONSOLE_PATH)
                                              or path[len(CONSOLE_PATH)] == "/")


def add_console_headers(path: str, headers: MutableMapping[str, str]) -> None:
    """The page's security headers (a handler's own values win); the console API's answers
    are never cached (they hold the audit log)."""
    for name, value in SECURITY_HEADERS.items():
        headers.setdefault(name, value)
    if path.startswith(CONSOLE_PATH + "/api/"):
        headers["Cache-Control"] = "no-store"
