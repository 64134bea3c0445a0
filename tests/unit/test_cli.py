"""The offline CLI, run as a person runs it: a real process, real files, real pipes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def meetguard(*args: str, stdin: str | bytes | None = None) -> subprocess.CompletedProcess:
    data = stdin.encode() if isinstance(stdin, str) else stdin
    return subprocess.run([sys.executable, "-m", "meetguard.cli", *args], input=data,
                          capture_output=True, timeout=60, cwd=ROOT, check=False)


def test_check_jsonl_prints_one_object_per_input_line_in_order() -> None:
    lines = ["https://emeeting.mic.gov.vn/room/1", "", "not a url at all",
             "https://us02web.zoom.us/j/1?pwd=SECRET", "https://zo0m.us/j/1", "\x1b[31mred"]
    result = meetguard("check", "--format", "jsonl", "-", stdin="\n".join(lines) + "\n")
    assert result.returncode == 0, result.stderr
    out = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert len(out) == len(lines)
    assert [o["class"] for o in out] == ["approved", "unknown", "unknown", "warned", "unknown",
                                         "unknown"]
    assert [o["action"] for o in out] == ["allow", "block", "block", "warn", "block", "block"]
    for obj in out:
        assert {"url", "target", "host", "class", "platform", "action", "reasons", "unwrapped",
                "policy_version"} <= obj.keys()
        for reason in obj["reasons"]:
            assert {"code", "severity", "message"} <= reason.keys()
    assert out[3]["platform"] == "zoom" and "SECRET" not in result.stdout.decode()


def test_check_reads_undecodable_bytes_without_a_traceback() -> None:
    result = meetguard("check", "--format", "jsonl", "-", stdin=b"https://a.example/\xff\xfe\n")
    assert result.returncode == 0 and b"Traceback" not in result.stderr
    assert len(result.stdout.splitlines()) == 1


def test_check_json_and_table_and_vietnamese() -> None:
    as_json = meetguard("check", "--format", "json", "--lang", "vi", "https://zoom.us/j/1")
    verdicts = json.loads(as_json.stdout)
    assert verdicts[0]["platform"] == "zoom"
    assert "không phải là nền tảng họp được phép" in verdicts[0]["reasons"][0]["message"]
    table = meetguard("check", "https://zoom.us/j/1", "https://emeeting.mic.gov.vn/")
    rows = table.stdout.decode().splitlines()
    assert rows[0].split()[:2] == ["CLASS", "ACTION"]
    assert rows[1].split()[:3] == ["warned", "warn", "zoom"]


def test_check_fail_on_sets_the_exit_status() -> None:
    assert meetguard("check", "--fail-on", "warn", "https://zoom.us/").returncode == 3
    assert meetguard("check", "--fail-on", "block", "https://zoom.us/").returncode == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["check"], "required"),
        (["check", "--format", "xml", "https://a.example"], "invalid choice"),
        (["check", "--signatures", "/nonexistent", "https://a.example"], "not a directory"),
        (["scan", "/nonexistent/file"], "No such file"),
        (["nonsense"], "invalid choice"),
    ],
)
def test_bad_input_is_one_line_and_a_non_zero_exit(args: list[str], message: str) -> None:
    result = meetguard(*args)
    assert result.returncode != 0
    err = result.stderr.decode()
    assert message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_scan_reports_each_file(tmp_path: Path) -> None:
    doc = tmp_path / "agenda.pdf"
    doc.write_bytes(b"%PDF-1.4\n%%EOF\n")
    exe = tmp_path / "invite.pdf.exe"
    exe.write_bytes(b"MZ" + b"\0" * 100)
    result = meetguard("scan", "--format", "jsonl", "--source-url",
                       "https://emeeting.mic.gov.vn/f", str(doc), str(exe))
    assert result.returncode == 0, result.stderr
    rows = [json.loads(x) for x in result.stdout.decode().splitlines()]
    assert [Path(r["path"]).name for r in rows] == ["agenda.pdf", "invite.pdf.exe"]
    assert {"path", "sha256", "size", "class", "action", "reasons"} <= rows[0].keys()
    assert rows[0]["size"] == doc.stat().st_size and len(rows[0]["sha256"]) == 64
    assert rows[0]["action"] == "allow" and rows[1]["action"] == "block"


def test_signatures_check(tmp_path: Path) -> None:
    ok = meetguard("signatures", "check", str(ROOT / "signatures"))
    assert ok.returncode == 0 and ok.stdout.startswith(b"ok:")
    # The bundled Vmeet entry has no host yet: it loads, and says so plainly.
    assert b"warning: platform vmeet (Vmeet) is sanctioned but has no domains" in ok.stderr
    broken = tmp_path / "sig"
    broken.mkdir()
    (broken / "platforms.toml").write_text("[[platform]]\nid = 'x'\nclass = 'nope'\n")
    (broken / "policy.toml").write_text("[links]\n")
    bad = meetguard("signatures", "check", str(broken))
    assert bad.returncode == 1
    assert f"{broken / 'platforms.toml'}:2:" in bad.stdout.decode()
