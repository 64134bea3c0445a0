"""The hygiene report for IT: per person, how often they met what the advisory warns about.

A person is their user label (`X-MeetGuard-User`), or their install id when they have none.
Each count is exactly one log filter, so a count links to the log view that lists those records
(the number in the report is the number of rows there):

- warned-platform visits: link verdicts of class `warned` with context `navigation` (the
  warning page asks for one per visit, whether a click or a typed address led there);
- overrides: `override` events ("Continue anyway");
- look-alike hits: link verdicts with reason `impersonation`, context `navigation`;
- blocked downloads: file verdicts whose action is `block`;
- room details shared: `room-details-shared` events ("Send anyway").

The weekly trend is the sum of the five per week (weeks start Monday 00:00 UTC).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

WEEK = 7 * 86400
MONDAY = 4 * 86400  # 1970-01-05, the first Monday after the epoch
MAX_SPAN_DAYS = 400


class Category(NamedTuple):
    id: str
    filters: dict[str, str]
    """The log filter (API parameter names) whose records this count is."""


CATEGORIES = (
    Category("warned_visits", {"kind": "link", "class": "warned", "context": "navigation"}),
    Category("overrides", {"kind": "event", "event": "override"}),
    Category("lookalikes", {"kind": "link", "code": "impersonation", "context": "navigation"}),
    Category("blocked_downloads", {"kind": "file", "action": "block"}),
    Category("room_details_shared", {"kind": "event", "event": "room-details-shared"}),
)
CATEGORY_IDS = tuple(c.id for c in CATEGORIES)


def week_of(ts: float) -> int:
    """The start (unix seconds) of the week holding `ts`; weeks start Monday 00:00 UTC.

    >>> week_of(1767323045.0)  # Friday 2026-01-02
    1766966400
    >>> week_of(1766966400), week_of(1766966399) == 1766966400 - WEEK
    (1766966400, True)
    """
    return int((ts - MONDAY) // WEEK * WEEK + MONDAY)


@dataclass
class PeopleReport:
    """Counts per person and week over `[since, until)`, filled by `add`."""

    since: float
    until: float
    counts: dict[tuple[str, str], dict[int, list[int]]] = field(default_factory=dict)
    """(by, person) -> week -> one count per category."""

    def add(self, by: str, person: str, week: int, values: Iterable[int]) -> None:
        weeks = self.counts.setdefault((by, person), {})
        row = weeks.setdefault(week, [0] * len(CATEGORIES))
        for i, n in enumerate(values):
            row[i] += n

    def weeks(self) -> list[int]:
        first, last = week_of(self.since), week_of(max(self.since, self.until - 1e-6))
        return list(range(first, last + WEEK, WEEK))

    def to_dict(self) -> dict[str, Any]:
        weeks = self.weeks()
        people = []
        totals = dict.fromkeys(CATEGORY_IDS, 0)
        for (by, person), per_week in self.counts.items():
            counts = [sum(row[i] for row in per_week.values()) for i in range(len(CATEGORIES))]
            if not any(counts):
                continue
            for name, n in zip(CATEGORY_IDS, counts, strict=True):
                totals[name] += n
            people.append({"person": person, "by": by, "counts": dict(zip(CATEGORY_IDS, counts,
                                                                           strict=True)),
                           "total": sum(counts),
                           "trend": [sum(per_week.get(w, ())) for w in weeks]})
        people.sort(key=lambda p: (-p["total"], p["person"]))
        return {
            "since": self.since, "until": self.until, "weeks": weeks,
            "categories": [{"id": c.id, "filters": c.filters} for c in CATEGORIES],
            "people": people, "totals": totals,
        }


def report_csv(doc: dict[str, Any]) -> str:
    """The report as CSV: one row per person, the counts, then one column per week."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["person", "by", *CATEGORY_IDS, "total",
                     *(f"week_{w}" for w in doc["weeks"])])
    for p in doc["people"]:
        # A leading = + - @ would make a spreadsheet run the cell as a formula.
        name = f"'{p['person']}" if p["person"][:1] in ("=", "+", "-", "@") else p["person"]
        writer.writerow([name, p["by"], *(p["counts"][c] for c in CATEGORY_IDS), p["total"],
                         *p["trend"]])
    return out.getvalue()
