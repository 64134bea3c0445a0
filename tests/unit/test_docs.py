"""Documentation that must not drift: every setting is in the README."""

from __future__ import annotations

from pathlib import Path

import pytest

from meetguard.settings import SETTINGS, StartupError, load_settings

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("setting", SETTINGS, ids=[s.name for s in SETTINGS])
def test_every_setting_is_documented(setting) -> None:
    row = f"| `{setting.name}` | `{setting.env}` |"
    assert row in README, f"README has no row for {setting.name}"


def test_the_two_commands_are_in_the_readme() -> None:
    assert "scripts/run" in README and "scripts/test" in README


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"MEETGUARD_PORT": "eighty"}, "MEETGUARD_PORT"),
        ({"MEETGUARD_PORT": "70000"}, "between 0 and 65535"),
        ({"MEETGUARD_FAIL_MODE": "sometimes"}, "one of open, closed"),
        ({"MEETGUARD_CONTENT_SCANNING": "maybe"}, "true or false"),
        ({"MEETGUARD_CONFIG": "/nonexistent/meetguard.toml"}, "No such file"),
    ],
)
def test_bad_settings_stop_the_start_with_a_fix(environ: dict[str, str], message: str) -> None:
    with pytest.raises(StartupError, match=message):
        load_settings({}, environ=environ)


def test_precedence_is_defaults_file_environment_flags(tmp_path: Path) -> None:
    config = tmp_path / "meetguard.toml"
    config.write_text('port = 9001\nfail_mode = "closed"\nwebmail_hosts = ["mail.moj.gov.vn"]\n')
    settings = load_settings({"port": "9003"}, environ={"MEETGUARD_CONFIG": str(config),
                                                        "MEETGUARD_PORT": "9002"})
    assert settings.port == 9003
    assert settings.fail_mode == "closed"
    assert settings.webmail_hosts == ("mail.moj.gov.vn",)
    assert load_settings({}, environ={"MEETGUARD_CONFIG": str(config)}).port == 9001


def test_unknown_keys_in_the_config_file_are_refused(tmp_path: Path) -> None:
    config = tmp_path / "meetguard.toml"
    config.write_text("prot = 1\n")
    with pytest.raises(StartupError, match="unknown setting 'prot'"):
        load_settings({}, environ={"MEETGUARD_CONFIG": str(config)})
