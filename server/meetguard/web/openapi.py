"""The OpenAPI 3.1 document of API v1. Tests check it against the routes and real answers."""

from __future__ import annotations

from functools import cache
from typing import Any

from .. import __version__
from ..verdict import Action, Code, Severity, VerdictClass
from .exports import CSV_COLUMNS
from .problems import PROBLEM_BASE, PROBLEMS
from .validate import CONTEXTS, EVENT_TYPES

_STR = {"type": "string"}
_NULLABLE_STR = {"type": ["string", "null"]}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _schemas() -> dict[str, Any]:
    reason = {
        "type": "object", "required": ["code", "severity", "message"],
        "properties": {"code": {"enum": [c.value for c in Code]},
                       "severity": {"enum": [s.value for s in Severity]},
                       "message": _STR, "rule": _STR},
    }
    verdict = {
        "type": "object",
        "required": ["id", "ttl", "url", "target", "host", "class", "platform", "action",
                     "click_through", "reasons", "unwrapped", "policy_version"],
        "properties": {
            "id": {**_NULLABLE_STR, "description": "log record id (null: counted, not stored)"},
            "ttl": {"type": "integer"}, "url": _STR, "target": _STR, "host": _STR,
            "display_host": _STR, "domain": _STR,
            "class": {"enum": [c.value for c in VerdictClass]},
            "platform": _NULLABLE_STR, "action": {"enum": [a.value for a in Action]},
            "click_through": {"type": "boolean"},
            "reasons": {"type": "array", "items": _ref("Reason")},
            "unwrapped": {"type": "array", "items": {
                "type": "object", "required": ["wrapper", "host"],
                "properties": {"wrapper": _STR, "host": _STR}}},
            "policy_version": _STR,
        },
    }
    file_verdict = {
        "type": "object",
        "required": ["id", "sha256", "class", "action", "reasons", "scanned", "content_wanted",
                     "policy_version"],
        "properties": {
            "id": _STR, "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
            "size": {"type": ["integer", "null"]}, "filename": _STR,
            "class": {"enum": [c.value for c in VerdictClass]},
            "action": {"enum": [a.value for a in Action]},
            "reasons": {"type": "array", "items": _ref("Reason")},
            "source_host": _NULLABLE_STR, "platform": _NULLABLE_STR,
            "scanned": {"type": "boolean"}, "content_wanted": {"type": "boolean"},
            "policy_version": _STR,
        },
    }
    problem = {
        "type": "object", "required": ["type", "title", "status"],
        "properties": {"type": {"type": "string", "enum": [PROBLEM_BASE + s for s in PROBLEMS]},
                       "title": _STR, "status": {"type": "integer"}, "detail": _STR,
                       "instance": _STR},
    }
    record = {
        "type": "object", "required": ["id", "ts", "time", "kind", "client"],
        "properties": {"id": _STR, "ts": {"type": "number", "description": "Unix seconds"},
                       "time": {"type": "string", "format": "date-time", "description":
                                "`ts` as RFC 3339 with milliseconds, in the `time_zone` setting"},
                       "kind": {"enum": ["link", "file", "event", "retro"]}, "client": _STR,
                       "user": _NULLABLE_STR, "context": _NULLABLE_STR, "class": _NULLABLE_STR,
                       "action": _NULLABLE_STR, "platform": _NULLABLE_STR, "host": _NULLABLE_STR,
                       "target": _NULLABLE_STR, "codes": {"type": "array", "items": _STR},
                       "rules": {"type": "array", "items": _STR},
                       "policy_version": _NULLABLE_STR, "event": _NULLABLE_STR,
                       "sha256": _NULLABLE_STR, "detail": {"type": "object"}},
    }
    policy = {
        "type": "object",
        "required": ["version", "platforms", "webmail_hosts", "fail_mode", "click_through",
                     "override_ttl_seconds", "verdict_ttl_seconds"],
        "properties": {
            "version": _STR,
            "platforms": {"type": "array", "items": {
                "type": "object", "required": ["id", "name", "class", "domains", "schemes"],
                "properties": {"id": _STR, "name": _STR, "class": _STR,
                               "domains": {"type": "array", "items": _STR},
                               "schemes": {"type": "array", "items": _STR}}}},
            "organisation_domains": {"type": "array", "items": _STR},
            "known_bad_domains": {"type": "array", "items": _STR},
            "shorteners": {"type": "array", "items": _STR},
            "webmail_hosts": {"type": "array", "items": _STR},
            "fail_mode": {"enum": ["open", "closed"]},
            "click_through": {"type": "object"},
            "override_ttl_seconds": {"type": "integer"},
            "verdict_ttl_seconds": {"type": "integer"},
        },
    }
    return {"Reason": reason, "LinkVerdict": verdict, "FileVerdict": file_verdict,
            "Problem": problem, "LogRecord": record, "Policy": policy}


def _json(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _problems(*statuses: int) -> dict[str, Any]:
    shape = {"content": {"application/problem+json": {"schema": _ref("Problem")}}}
    return {str(s): {"description": "problem", **shape} for s in statuses}


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _paths() -> dict[str, Any]:
    client = [{"clientKey": []}]
    admin = [{"adminToken": []}]
    return {
        "/v1/links/check": {"post": {
            "summary": "Classify links (in input order); every verdict is logged",
            "security": client,
            "requestBody": _body({"type": "object", "required": ["urls"], "properties": {
                "urls": {"type": "array", "items": _STR, "minItems": 1},
                "context": {"enum": list(CONTEXTS)}, "lang": {"enum": ["en", "vi"]}}}),
            "responses": {"200": _json({"type": "object", "required": ["verdicts",
                                                                       "policy_version"],
                                        "properties": {"verdicts": {"type": "array",
                                                                    "items": _ref("LinkVerdict")},
                                                       "policy_version": _STR}}),
                          **_problems(400, 401, 403, 413, 415, 429, 503)}}},
        "/v1/files/check": {"post": {
            "summary": "Verdict on a file by its SHA-256, name and origin",
            "security": client,
            "requestBody": _body({"type": "object", "required": ["sha256"], "properties": {
                "sha256": _STR, "size": {"type": "integer"}, "filename": _STR, "mime": _STR,
                "source_url": _STR}}),
            "responses": {"200": _json({"type": "object", "required": ["verdict"],
                                        "properties": {"verdict": _ref("FileVerdict")}}),
                          **_problems(400, 401, 403, 413, 415, 429, 503)}}},
        "/v1/files/{sha256}/content": {"put": {
            "summary": "Upload a file's bytes for a content scan (only when asked)",
            "security": client,
            "parameters": [{"name": "sha256", "in": "path", "required": True, "schema": _STR},
                           *({"name": n, "in": "query", "schema": _STR}
                             for n in ("filename", "mime", "source_url"))],
            "requestBody": {"required": True, "content": {"application/octet-stream": {
                "schema": {"type": "string", "format": "binary"}}}},
            "responses": {"200": _json({"type": "object", "required": ["verdict"],
                                        "properties": {"verdict": _ref("FileVerdict")}}),
                          **_problems(400, 401, 403, 413, 429, 503)}}},
        "/v1/events": {"post": {
            "summary": "Report events (override, download-removed, unverifiable, …)",
            "security": client,
            "requestBody": _body({"type": "object", "required": ["events"], "properties": {
                "events": {"type": "array", "minItems": 1, "items": {
                    "type": "object", "required": ["type"], "properties": {
                        "type": {"enum": list(EVENT_TYPES)}, "url": _STR, "verdict_id": _STR,
                        "sha256": _STR, "filename": _STR, "context": {"enum": list(CONTEXTS)},
                        "ts": {"type": "number"}, "detail": {"type": "object"}}}}}}),
            "responses": {"202": _json({"type": "object", "required": ["accepted", "ids"],
                                        "properties": {"accepted": {"type": "integer"},
                                                       "ids": {"type": "array", "items": _STR}}},
                                       "Accepted"),
                          **_problems(400, 401, 403, 413, 415, 429, 503)}}},
        "/v1/policy": {"get": {
            "summary": "The policy snapshot extensions cache (ETag / If-None-Match)",
            "security": client,
            "responses": {"200": _json(_ref("Policy")), "304": {"description": "Not modified"},
                          **_problems(401, 403)}}},
        "/v1/logs": {"get": {
            "summary": "Query the log (cursor pages) or export it (csv, ndjson; streamed)",
            "security": admin,
            "parameters": [{"name": n, "in": "query", "schema": _STR} for n in
                           ("since", "until", "class", "action", "platform", "host", "client",
                            "user", "kind", "context", "event", "code", "limit", "cursor",
                            "format")],
            "responses": {"200": {"description": "OK", "content": {
                "application/json": {"schema": {
                    "type": "object", "required": ["items", "next_cursor"],
                    "properties": {"items": {"type": "array", "items": _ref("LogRecord")},
                                   "next_cursor": _NULLABLE_STR}}},
                "text/csv": {"schema": {"type": "string",
                                        "description": "Columns: " + ", ".join(CSV_COLUMNS)}},
                "application/x-ndjson": {"schema": {
                    "type": "string", "description": "One LogRecord (JSON) a line"}}}},
                **_problems(400, 401, 403, 503)}}},
        "/v1/stats": {"get": {
            "summary": "Counts over time by class and action, top hosts and platforms",
            "security": admin,
            "parameters": [{"name": n, "in": "query", "schema": _STR}
                           for n in ("since", "until", "bucket")],
            "responses": {"200": _json({"type": "object", "required": ["buckets", "totals"]}),
                          **_problems(400, 401, 403, 503)}}},
        "/v1/reports/people": {"get": {
            "summary": "Hygiene report: per person, warned-platform visits, overrides, look-alike "
                       "hits, blocked downloads and room details shared, with a weekly trend",
            "security": admin,
            "parameters": [{"name": n, "in": "query", "schema": _STR}
                           for n in ("since", "until", "format")],
            "responses": {"200": {"description": "OK", "content": {
                "application/json": {"schema": {
                    "type": "object", "required": ["since", "until", "weeks", "people", "totals"],
                    "properties": {"people": {"type": "array", "items": {
                        "type": "object", "required": ["person", "by", "counts", "total", "trend"],
                    }}}}},
                "text/csv": {"schema": _STR}}},
                **_problems(400, 401, 403, 503)}}},
        "/v1/admin/signatures": {"get": {
            "summary": "The signatures in force: version, counts, platforms",
            "security": admin,
            "responses": {"200": _json({"type": "object", "required": ["version"]}),
                          **_problems(401, 403)}}},
        "/v1/admin/reload": {"post": {
            "summary": "Reload the signatures (all instances with Redis)",
            "security": admin,
            "responses": {"200": _json({"type": "object", "required": ["version",
                                                                       "previous_version"]}),
                          **_problems(401, 403, 422)}}},
        "/v1/admin/retrohunt": {"post": {
            "summary": "Retro-hunt: re-check the targets logged in a window with the signatures "
                       "in force; findings are written as `retro` records",
            "security": admin,
            "requestBody": {**_body({"type": "object", "properties": {
                "since": {"type": ["string", "number"]},
                "until": {"type": ["string", "number"]}}}), "required": False},
            "responses": {"200": _json({"type": "object", "required": ["summary", "findings"],
                                        "properties": {
                "summary": {"type": "object", "required": [
                    "id", "policy_version", "since", "until", "targets", "records",
                    "findings", "new_findings", "seconds"]},
                "findings": {"type": "array", "items": {"type": "object", "required": [
                    "target", "host", "old_action", "new_action", "reasons", "records",
                    "people"]}}}}),
                          **_problems(400, 401, 403, 409, 415, 503)}}},
        "/healthz": {"get": {"summary": "Liveness", "responses": {"200": _json(
            {"type": "object", "required": ["status"]})}}},
        "/readyz": {"get": {"summary": "Readiness, with warnings for operators",
                            "responses": {"200": _json({"type": "object",
                                                        "required": ["status"]}),
                                          "503": _json({"type": "object", "required": [
                                              "status", "reason"]},
                                              "Not ready (the reason: e.g. the log store"
                                              " refuses writes, a full disk)")}}},
        "/metrics": {"get": {"summary": "Prometheus metrics", "responses": {"200": {
            "description": "OK", "content": {"text/plain": {"schema": _STR}}}}}},
        "/openapi.json": {"get": {"summary": "This document", "responses": {"200": _json(
            {"type": "object"})}}},
    }


@cache
def openapi_document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "MeetGuard verdict service", "version": __version__,
                 "description": "Classifies meeting links and files; logs every verdict."},
        "paths": _paths(),
        "components": {
            "schemas": _schemas(),
            "securitySchemes": {
                "clientKey": {"type": "http", "scheme": "bearer",
                              "description": "client key (extensions)"},
                "adminToken": {"type": "http", "scheme": "bearer",
                               "description": "admin token (IT)"},
            },
        },
    }
