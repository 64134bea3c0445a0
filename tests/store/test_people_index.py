"""The hygiene report's query reads only its partial covering index on the indexed table: a
change to either side of the condition would make SQLite visit every record of the range."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from meetguard.report import MONDAY, WEEK
from meetguard.store.sqlite import _PEOPLE, migrate


def test_the_report_query_uses_the_covering_index(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "log.sqlite3")
    migrate(conn)
    plan = conn.execute("EXPLAIN QUERY PLAN " + _PEOPLE.format(table="records"),
                        (MONDAY, WEEK, 0.0, 1e10)).fetchall()
    assert any("COVERING INDEX records_people" in row[-1] for row in plan), plan
