"""HTTP problems (RFC 9457 `application/problem+json`), with stable types.

Handlers and validators raise `ProblemError`; one middleware turns it, and every other
failure, into the same shape. The `type` is a stable URI per kind of problem.
"""

from __future__ import annotations

from typing import Any

PROBLEM_BASE = "https://meetguard.invalid/problems/"
CONTENT_TYPE = "application/problem+json"

# slug -> (status, title). The slug is the stable part of `type`.
PROBLEMS: dict[str, tuple[int, str]] = {
    "invalid-json": (400, "The request body is not valid JSON"),
    "invalid-request": (400, "The request does not have the expected shape"),
    "invalid-parameter": (400, "A query parameter is not valid"),
    "invalid-hash": (400, "Not a SHA-256 (64 hexadecimal digits)"),
    "hash-mismatch": (400, "The content does not have the SHA-256 in the path"),
    "invalid-cursor": (400, "The cursor is not one this service returned"),
    "unauthorized": (401, "A valid key is required"),
    "forbidden": (403, "This key may not do that"),
    "not-found": (404, "No such resource"),
    "method-not-allowed": (405, "Method not allowed here"),
    "not-acceptable": (406, "Cannot answer in the requested format"),
    "body-too-large": (413, "The request body is too large"),
    "too-many-urls": (413, "Too many URLs in one request"),
    "too-many-events": (413, "Too many events in one request"),
    "unsupported-media-type": (415, "Unsupported content type"),
    "signatures-invalid": (422, "The signatures do not load; the previous ones stay in force"),
    "retrohunt-running": (409, "A retro-hunt is running on this log"),
    "signatures-changed": (409, "The signatures on disk are not the ones in force"),
    "rate-limited": (429, "Too many requests from this client"),
    "internal": (500, "Internal error"),
    "store-unavailable": (503, "The log store cannot be reached"),
    "scanner-busy": (503, "Every scanner is busy"),
    "spool-full": (503, "The log store is down and the local spool is full"),
}


class ProblemError(Exception):
    """An answer that is a problem; `slug` picks the type, `detail` says what to fix."""

    def __init__(self, slug: str, detail: str = "", *, headers: dict[str, str] | None = None,
                 **extra: Any) -> None:
        super().__init__(detail or slug)
        if slug not in PROBLEMS:
            raise ValueError(f"unknown problem {slug!r}")
        self.slug = slug
        self.status = PROBLEMS[slug][0]
        self.detail = detail
        self.headers = headers or {}
        self.extra = extra

    def body(self, instance: str) -> dict[str, Any]:
        return problem_body(self.slug, self.detail, instance, **self.extra)


def problem_body(slug: str, detail: str, instance: str, **extra: Any) -> dict[str, Any]:
    status, title = PROBLEMS[slug]
    body: dict[str, Any] = {"type": PROBLEM_BASE + slug, "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body["instance"] = instance
    body.update(extra)
    return body
