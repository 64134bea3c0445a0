"""Prepared link answers: the bytes sent and the records stored are what the verdict says."""

from __future__ import annotations

import orjson
import pytest

from meetguard.classify import Classifier
from meetguard.policy import Policy
from meetguard.store.base import (
    LogRecord,
    check_record,
    new_record_id,
    new_record_ids,
    record_id_time,
)
from meetguard.web.answers import links_answer, prepare, preparer

URLS = [
    "https://emeeting.mic.gov.vn/room/123",
    "https://us02web.zoom.us/j/85012345678?pwd=SECRETpassword1",
    "https://nam12.safelinks.protection.outlook.com/?url=https%3A%2F%2Fteams.microsoft.com"
    "%2Fl%2Fmeetup-join%2F19%253ameeting&data=x",
    "https://zo0m-meeting.example/j/1",
    "http://[not a url",
    "https://tên-miền.vn/\u202e\"quotes\"",
]


@pytest.mark.parametrize("lang", ["en", "vi"])
def test_the_answer_is_each_verdict_with_its_id_and_ttl(policy: Policy, lang: str) -> None:
    classifier = Classifier(policy)
    verdicts = [classifier.link(url) for url in URLS]
    ids = [f"01J{i:023d}" for i in range(len(URLS) - 1)] + [None]
    body = links_answer([prepare(v) for v in verdicts], ids, lang, 300, policy.version)
    expected = {
        "verdicts": [{**v.to_dict(lang), "id": rid, "ttl": 300}
                     for v, rid in zip(verdicts, ids, strict=True)],
        "policy_version": policy.version,
    }
    assert orjson.loads(body) == expected
    assert b"SECRETpassword1" not in body


def test_the_record_carries_the_verdict_and_the_caller(policy: Policy) -> None:
    verdict = Classifier(policy).link(URLS[2])
    rid = new_record_id(1_700_000_000.5)
    record = prepare(verdict).record(rid, 1_700_000_000.5, "click", "pc-7", "lan%40mic", "ext")
    check_record(record)
    assert record == LogRecord(
        id=record.id, ts=1_700_000_000.5, kind="link", client="pc-7", user="lan%40mic",
        context="click", verdict_class=verdict.verdict_class.value, action=verdict.action.value,
        platform=verdict.platform, host=verdict.host, target=verdict.target,
        codes=tuple(verdict.codes), rules=tuple(verdict.rules),
        policy_version=verdict.policy_version,
        detail={"key": "ext", "severities": [r.severity.value for r in verdict.reasons],
                "unwrapped": ["outlook-safelinks"]},
    )  # fmt: skip
    assert record_id_time(record.id) == 1_700_000_000.5


def test_an_invalid_link_keeps_what_was_sent_as_its_target(policy: Policy) -> None:
    verdict = Classifier(policy).link("http://[not a url")
    record = prepare(verdict).record(new_record_id(0.0), 0.0, "api", "c", None, "k")
    assert record.verdict_class == "unknown" and record.target == "http://[not a url"


def test_prepared_links_are_cached(policy: Policy) -> None:
    links = preparer(policy)
    assert links(URLS[0]) is links(URLS[0])
    first, second = (links(URLS[0]).record(rid, 1.0, "click", "c", None, "k")
                     for rid in new_record_ids(1.0, 2))
    assert first.id != second.id and first[1:] == second[1:]


def test_only_a_hover_that_allows_has_a_counter(policy: Policy) -> None:
    classifier = Classifier(policy)
    approved, warned = prepare(classifier.link(URLS[0])), prepare(classifier.link(URLS[1]))
    assert approved.hover_counter == "hover:allow:approved:emeeting-mic"
    assert warned.hover_counter is None
