"""`meetguard retrohunt` as IT runs it: on the data directory of a running service, and
through the service (--url, --token); bad input is one line and a non-zero exit."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from tests.service.test_retrohunt import (
    SECRET,
    Clicks,
    add_known_bad,
    check_findings,
    poster,
    retro_records,
    signatures_copy,
    unique_domain,
)
from tests.support.service import ADMIN_TOKEN, ROOT

from meetguard.retrohunt import FINDING_EVENT


async def meetguard(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEETGUARD_")}
    return await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "meetguard.cli", *args], capture_output=True,
        text=True, env=env, cwd=ROOT, timeout=120, check=False)


async def test_cli_on_the_data_directory_then_through_the_service(
    make_client: Any, tmp_path: Path
) -> None:
    signatures = signatures_copy(tmp_path)
    data = tmp_path / "data"
    client = await make_client(data, signatures=str(signatures), retrohunt_days=0)
    domain = unique_domain()
    clicks = Clicks(domain)
    await clicks.send(poster(client))
    add_known_bad(signatures, domain)

    local = await meetguard("retrohunt", "--since", "1d", "--data-dir", str(data),
                            "--signatures", str(signatures), "--workers", "1",
                            "--format", "json")
    assert local.returncode == 0, local.stderr
    answer = json.loads(local.stdout)
    assert answer["summary"]["new_findings"] == 2
    check_findings(answer["findings"], clicks)
    check_findings(await retro_records(client, event=FINDING_EVENT), clicks)  # in the log

    logged = await meetguard("logs", "--db", str(data / "meetguard.sqlite3"), "--kind", "retro",
                             "--event", "newly-flagged", "--format", "jsonl")
    assert logged.returncode == 0, logged.stderr
    check_findings([json.loads(line) for line in logged.stdout.splitlines()], clicks)

    table = await meetguard("retrohunt", "--data-dir", str(data), "--signatures",
                            str(signatures), "--workers", "0")
    assert table.returncode == 0, table.stderr
    assert "2 findings (0 new)" in table.stdout
    assert "people: lan, minh" in table.stdout
    assert SECRET not in local.stdout + table.stdout + local.stderr + table.stderr

    async with client.post("/v1/admin/reload", headers={
            "Authorization": f"Bearer {ADMIN_TOKEN}"}) as response:
        assert response.status == 200
    remote = await meetguard("retrohunt", "--url", str(client.make_url("/")), "--token",
                             ADMIN_TOKEN, "--since", "2h", "--format", "json")
    assert remote.returncode == 0, remote.stderr
    through = json.loads(remote.stdout)
    assert through["summary"]["new_findings"] == 0  # recorded by the CLI's run already
    check_findings(through["findings"], clicks)
    assert len(await retro_records(client, event=FINDING_EVENT)) == 2


BAD = [
    (["--since", "yesterday"], "--since/--until must be like"),
    (["--since", "1h", "--until", "2h"], "--since must be before --until"),
    (["--data-dir", "/nonexistent/meetguard"], "no log database at"),
    (["--url", "http://127.0.0.1:9"], "--url needs an admin token"),
    (["--url", "http://127.0.0.1:9", "--token", "x" * 20], "cannot reach"),
    (["--workers", "-1"], "invalid choice"),
]


@pytest.mark.parametrize(("args", "message"), BAD, ids=[m for _, m in BAD])
async def test_cli_bad_input_is_one_line_and_a_non_zero_exit(args: list[str],
                                                              message: str) -> None:
    done = await meetguard("retrohunt", *args)
    assert done.returncode != 0
    assert message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "Traceback" not in done.stderr
