"""Link answers prepared once per verdict, then only stamped per request.

A verdict is immutable and cached per URL, and so is most of what a request makes of it: the
audit record's values, the answer's JSON, the counter a hover falls into. `PreparedLink` holds
them; a request adds the record id, the time and the caller. Building them afresh for each URL
of each request was most of the service's own time per verdict.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import orjson

from ..classify import classify_link
from ..policy import Policy
from ..store.base import LogRecord, counter_key
from ..verdict import LinkVerdict
from .validate import printable


class PreparedLink(NamedTuple):
    verdict: LinkVerdict
    record_values: tuple[Any, ...]
    """LogRecord fields `verdict_class` … `policy_version`, in field order."""
    detail: dict[str, Any]
    hover_counter: str | None
    """The counter of a hover that allows (such hovers are only counted); None otherwise."""
    fragments: dict[str, bytes]
    """The verdict as a JSON object without its opening brace, by language (on first use)."""
    details: dict[str, dict[str, Any]]
    """A record's `detail` by API key name (on first use; shared by records, never mutated)."""

    def fragment(self, lang: str) -> bytes:
        body = self.fragments.get(lang)
        if body is None:
            body = self.fragments[lang] = orjson.dumps(self.verdict.to_dict(lang))[1:]
        return body

    def record(self, record_id: str, ts: float, context: str | None, client: str,
               user: str | None, key_name: str) -> LogRecord:
        detail = self.details.get(key_name)
        if detail is None:
            detail = self.details[key_name] = {"key": key_name, **self.detail}
        # tuple.__new__: the NamedTuple's own constructor takes twice as long (per verdict).
        return _new_tuple(LogRecord, (record_id, ts, "link", client, user, context,
                                      *self.record_values, None, None, detail))


_new_tuple = tuple.__new__


def prepare(verdict: LinkVerdict) -> PreparedLink:
    allows = verdict.action.value == "allow"
    detail: dict[str, Any] = {"severities": [r.severity.value for r in verdict.reasons]}
    if verdict.unwrapped:
        detail["unwrapped"] = [h.wrapper for h in verdict.unwrapped]
    return PreparedLink(
        verdict,
        (verdict.verdict_class.value, verdict.action.value, verdict.platform,
         verdict.host or None,
         # An invalid link has no target: keep what was sent (secrets redacted, bounded).
         verdict.target or printable(verdict.url[:2048]) or None,
         tuple(verdict.codes), tuple(verdict.rules), verdict.policy_version),
        detail,
        counter_key("hover", "allow", verdict.verdict_class.value, verdict.platform)
        if allows else None,
        {},
        {},
    )


def preparer(policy: Policy, cache_size: int = 65536) -> Callable[[str], PreparedLink]:
    """`url -> PreparedLink`, cached per policy snapshot (and dropped with it). It classifies
    on its own rather than through `Classifier.link`, whose cache would hold every checked
    link a second time (that one serves file sources and events)."""
    return functools.lru_cache(maxsize=cache_size)(lambda url: prepare(classify_link(policy, url)))


def links_answer(prepared: Sequence[PreparedLink], ids: Sequence[str | None], lang: str,
                 ttl: int, policy_version: str) -> bytes:
    """`{"verdicts": [...], "policy_version": ...}`: each verdict's JSON with its `id` and
    `ttl` put in front (ids are ULIDs: nothing to escape). Joined once, copied once."""
    ttl_part = b',"ttl":%d,' % ttl
    parts: list[bytes] = [b'{"verdicts":[']
    for link, rid in zip(prepared, ids, strict=True):
        parts += (b'{"id":"', rid.encode(), b'"') if rid else (b'{"id":null',)
        parts += (ttl_part, link.fragment(lang), b",")
    parts[-1] = b'],"policy_version":'  # the last item's comma
    parts += (orjson.dumps(policy_version), b"}")
    return b"".join(parts)
