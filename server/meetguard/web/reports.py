"""`GET /v1/reports/people` (admin) and its console twin: the hygiene report (meetguard.report).

The store adds the counts up where the records are (`LogStore.people_counts`): SQLite with one
aggregate query over a partial covering index, Redis with a script over slices of its time
index. Only the per-person, per-week sums come back.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from aiohttp import web

from ..report import MAX_SPAN_DAYS, MONDAY, WEEK, PeopleReport, report_csv
from .auth import Role
from .console import signed_in
from .http import json_response
from .keys import SERVICE
from .middlewares import requires
from .problems import ProblemError
from .service import Service
from .timeparse import parse_time

DEFAULT_SINCE = "28d"


def report_range(params: Mapping[str, str], now: float | None = None) -> tuple[float, float]:
    """`(since, until)` from the query (default: the last four weeks); 400 when they are bad."""
    now = time.time() if now is None else now
    try:
        since = parse_time(params.get("since") or DEFAULT_SINCE, now=now)
        until = parse_time(params.get("until") or str(now), now=now)
    except ValueError:
        raise ProblemError("invalid-parameter", "since/until must be like 28d, "
                                                "2026-01-31T08:00:00Z or unix seconds") from None
    if not since < until:
        raise ProblemError("invalid-parameter", "since must be before until")
    if until - since > MAX_SPAN_DAYS * 86400:
        raise ProblemError("invalid-parameter", f"at most {MAX_SPAN_DAYS} days per report")
    return since, until


async def people_report(service: Service, since: float, until: float) -> PeopleReport:
    report = PeopleReport(since, until)
    rows = await service.store.people_counts(since, until, MONDAY, WEEK)
    for labelled, person, index, *values in rows:
        report.add("user" if labelled else "client", person, index * WEEK + MONDAY, values)
    return report


async def _answer(request: web.Request) -> web.Response:
    since, until = report_range(request.query)
    fmt = request.query.get("format", "json")
    if fmt not in ("json", "csv"):
        raise ProblemError("invalid-parameter", "format must be json or csv")
    doc = (await people_report(request.app[SERVICE], since, until)).to_dict()
    if fmt == "csv":
        return web.Response(text=report_csv(doc), content_type="text/csv", charset="utf-8",
                            headers={"Content-Disposition":
                                     'attachment; filename="meetguard-people.csv"'})
    return json_response(doc)


@requires(Role.ADMIN)
async def get_people(request: web.Request) -> web.Response:
    return await _answer(request)


@signed_in(csrf=False)
async def console_people(request: web.Request) -> web.Response:
    return await _answer(request)
