"""Configuration: defaults < TOML file < HMS_* variables, validated by pydantic-settings;
each bad value or unknown key is one line naming the setting and where it came from."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from hms_desktop.config import (
    CONFIGURABLE,
    DEFAULT_SECRET_KEY,
    ConfigError,
    Settings,
    config_template,
    load_settings,
)

ROOT = Path(__file__).resolve().parent.parent


def _file(tmp_path: Path, text: str) -> dict[str, str]:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return {"HMS_CONFIG": str(path)}


def _problems(environ: dict[str, str]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_settings(environ)
    return caught.value.problems


def test_file_over_defaults_and_environment_over_file(tmp_path: Path) -> None:
    env = _file(tmp_path, 'timezone = "Asia/Kolkata"\nhold_ttl_minutes = 3\nredis_prefix = "a:"\n')
    env["HMS_HOLD_TTL_MINUTES"] = "2.5"
    env["HMS_CORS_ORIGINS"] = "https://a.example, https://b.example"
    settings = load_settings(env)
    assert settings.timezone == "Asia/Kolkata"  # file
    assert settings.hold_ttl_minutes == 2.5  # environment beats file
    assert settings.redis_prefix == "a:"
    assert settings.cors_origins == ("https://a.example", "https://b.example")
    assert settings.access_token_minutes == 15  # default
    assert settings.config_file == env["HMS_CONFIG"]


def test_a_bad_environment_value_names_the_variable() -> None:
    assert _problems({"HMS_HOLD_TTL_MINUTES": "five"}) == [
        "HMS_HOLD_TTL_MINUTES: 'five' is not a number"
    ]
    assert _problems({"HMS_ACCESS_TOKEN_MINUTES": "1.5"}) == [
        "HMS_ACCESS_TOKEN_MINUTES: '1.5' is not a whole number"
    ]


def test_every_bad_value_is_one_line_naming_its_source(tmp_path: Path) -> None:
    env = _file(tmp_path, 'mode = "cloud"\ntimezone = "Mars/Olympus"\n')
    env["HMS_BOOKING_HORIZON_DAYS"] = "-3"
    problems = _problems(env)
    config = env["HMS_CONFIG"]
    assert len(problems) == 3
    assert f"{config}: mode: 'cloud' is not one of 'local' or 'remote'" in problems
    assert f"{config}: timezone: 'Mars/Olympus' is not a known time zone" in problems[1]
    assert problems[2].startswith("HMS_BOOKING_HORIZON_DAYS: '-3'")


def test_the_phone_region_is_a_known_country() -> None:
    assert Settings().default_phone_region == "GB"
    assert load_settings({"HMS_DEFAULT_PHONE_REGION": " in "}).default_phone_region == "IN"
    assert _problems({"HMS_DEFAULT_PHONE_REGION": "XX"}) == [
        "HMS_DEFAULT_PHONE_REGION: 'XX' is not a known country code for phone numbers (e.g. GB)"
    ]


def test_unknown_keys_in_the_file_are_reported(tmp_path: Path) -> None:
    problems = _problems(_file(tmp_path, "hold_ttl = 3\ncolour = 'blue'\n"))
    path = tmp_path / "config.toml"
    assert problems == [
        f"{path}: unknown setting 'hold_ttl' (did you mean 'hold_ttl_minutes'?)",
        f"{path}: unknown setting 'colour'",
    ]


def test_unreadable_or_missing_files_are_one_line(tmp_path: Path) -> None:
    assert "not valid TOML" in _problems(_file(tmp_path, 'mode = "remote\n'))[0]
    missing = tmp_path / "nowhere.toml"
    assert _problems({"HMS_CONFIG": str(missing)}) == [f"HMS_CONFIG: {missing} does not exist"]


def test_settings_objects_are_frozen_and_overrides_are_validated() -> None:
    settings = Settings(database_url="sqlite:///x.sqlite3")
    with pytest.raises(ValueError):
        settings.database_url = "other"  # type: ignore[misc]
    assert settings.with_overrides(hold_ttl_minutes=0.5).hold_ttl_ms == 30_000
    with pytest.raises(ValueError):
        settings.with_overrides(hold_ttl_minutes="soon")
    assert Settings().secret_key == DEFAULT_SECRET_KEY and Settings().has_default_secret


def test_the_template_lists_every_setting_at_its_default() -> None:
    template = config_template()
    assert tomllib.loads(template) == {}  # all commented out
    for name in CONFIGURABLE:
        assert f"\n# {name} = " in template, name
    uncommented = "\n".join(
        line[2:] if line.startswith("# ") and " = " in line else line
        for line in template.splitlines()
    )
    assert Settings(**tomllib.loads(uncommented)) == Settings()


def test_the_central_template_sets_the_stores_and_a_random_secret() -> None:
    values = tomllib.loads(config_template(central=True))
    assert values["database_url"].startswith("postgresql+psycopg://")
    assert values["redis_url"].startswith("redis://")
    assert values["public_url"].startswith("https://")
    assert len(values["secret_key"]) >= 40
    assert values["secret_key"] != tomllib.loads(config_template(central=True))["secret_key"]


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    clean = {key: value for key, value in os.environ.items() if not key.startswith("HMS_")}
    return subprocess.run(
        [sys.executable, "-m", "hms_desktop", *args],
        env={**clean, "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_command_line_prints_one_line_per_problem_and_no_traceback(tmp_path: Path) -> None:
    env = _file(tmp_path, "hold_ttl = 3\n")
    result = _cli(env, "check")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"configuration error: {tmp_path / 'config.toml'}: unknown setting 'hold_ttl' "
        "(did you mean 'hold_ttl_minutes'?)"
    ]
    result = _cli({**_file(tmp_path, ""), "HMS_HOLD_TTL_MINUTES": "five"}, "db", "upgrade")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "configuration error: HMS_HOLD_TTL_MINUTES: 'five' is not a number"
    )


def test_config_init_writes_a_file_that_loads(tmp_path: Path) -> None:
    path = tmp_path / "etc" / "config.toml"
    made = _cli({"HMS_CONFIG": str(path)}, "config", "init", "--central")
    assert made.returncode == 0, made.stderr
    assert path.stat().st_mode & 0o077 == 0  # the secret key is readable by its owner only
    assert load_settings({"HMS_CONFIG": str(path)}).database_url.startswith("postgresql")
    again = _cli({"HMS_CONFIG": str(path)}, "config", "init")
    assert again.returncode == 1
    assert "already exists" in again.stderr and "Traceback" not in again.stderr
    replaced = _cli({"HMS_CONFIG": str(path)}, "config", "init", "--force")
    assert replaced.returncode == 0
    assert load_settings({"HMS_CONFIG": str(path)}) == Settings(config_file=str(path))


def test_the_readme_names_every_setting() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Configuration") : readme.index("## Command line")]
    for name in CONFIGURABLE:
        assert f"`{name}`" in section, f"README's configuration table misses {name}"


def test_the_reminders_settings_read_from_the_environment_and_masked(tmp_path: Path) -> None:
    env = _file(tmp_path, 'smtp_host = "mail.clinic.lan"\nsmtp_password = "hunter2"\n')
    env["HMS_MESSAGE_CHANNELS"] = "email, sms"
    env["HMS_SMTP_SECURITY"] = "ssl"
    env["HMS_SMS_WEBHOOK_TOKEN"] = "gateway-secret"
    settings = load_settings(env)
    assert settings.message_channels == ("email", "sms")
    assert (settings.smtp_host, settings.smtp_security) == ("mail.clinic.lan", "ssl")
    assert settings.reminder_hours == 24
    shown = settings.masked()
    assert (shown["smtp_password"], shown["sms_webhook_token"]) == ("****", "****")
    assert "hunter2" not in str(shown) and "gateway-secret" not in str(shown)
    problems = _problems({"HMS_MESSAGE_CHANNELS": "email,fax"})
    assert len(problems) == 1 and problems[0].startswith("HMS_MESSAGE_CHANNELS: 'fax'")


def test_a_webhook_url_with_a_key_in_it_is_masked() -> None:
    settings = Settings(sms_webhook_url="https://acct:s3cret-pass@sms.example/send?api_key=k3y-123")
    shown = str(settings.masked())
    assert "s3cret-pass" not in shown and "k3y-123" not in shown
    assert settings.masked()["sms_webhook_url"] == "https://acct:****@sms.example/send?****"
    plain = Settings(sms_webhook_url="https://sms.example/send").masked()["sms_webhook_url"]
    assert plain == "https://sms.example/send"
