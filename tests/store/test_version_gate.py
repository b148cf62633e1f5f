"""The version gate, as a desk meets it: the real `hms-desktop` process against a database
that requires a newer desktop, one a newer version upgraded, and one nobody upgraded. Each
gets the clear message (the version needed, where IT put it) and a non-zero exit, never a
traceback."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from sqlalchemy import create_engine, pool, text

import hms_desktop
from hms_desktop.services.clinic import open_clinic
from hms_desktop.services.version_gate import IncompatibleDatabase, gate_problem
from hms_desktop.store import meta, schema
from tests.store.conftest import Blank, run_cli

SHARE = r"\\fileserver\hms\releases"


def _refused(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode == 3, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert "hms-desktop cannot start:" in result.stderr
    for word in words:
        assert word in result.stderr


def test_an_old_desktop_is_told_the_version_it_needs_and_where_it_is(
    blank: Blank, tmp_path: Path
) -> None:
    env = blank.cli_env(tmp_path)
    assert run_cli(env, "db", "upgrade").returncode == 0
    required = run_cli(env, "db", "require-version", "99.0.0", "--update-url", SHARE)
    assert required.returncode == 0, required.stderr
    assert SHARE in required.stdout

    _refused(run_cli(env), "needs version 99.0.0 or newer", SHARE, hms_desktop.__version__)
    # the log file says it too (the desk's "details are in the log")
    assert "needs version 99.0.0" in (tmp_path / "logs" / "hms-desktop.log").read_text()
    # every other way in is closed as well, with one line
    made = run_cli(env, "create-user", "--username", "x1", "--role", "admin", "--password-stdin")
    assert made.returncode == 1 and "needs version 99.0.0" in made.stderr
    assert "Traceback" not in made.stderr
    checked = run_cli(env, "check")
    assert checked.returncode == 1 and "FAIL version" in checked.stdout

    # IT lowers it again: the desktop may start (the gate says nothing)
    assert run_cli(env, "db", "require-version", hms_desktop.__version__).returncode == 0
    assert gate_problem(blank.settings()) is None


def test_the_configured_update_url_is_named_when_the_database_names_none(
    blank: Blank, tmp_path: Path
) -> None:
    schema.upgrade(blank.url)
    meta.write_meta(blank.url, **{meta.MIN_DESKTOP_VERSION: "99.1"})
    env = blank.cli_env(tmp_path, HMS_UPDATE_URL="https://it.clinic.example/hms")
    _refused(run_cli(env), "99.1", "https://it.clinic.example/hms")


def test_a_desktop_meets_a_database_a_newer_version_upgraded(blank: Blank, tmp_path: Path) -> None:
    schema.upgrade(blank.url)
    engine = create_engine(blank.url, poolclass=pool.NullPool)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    _refused(run_cli(blank.cli_env(tmp_path)), "too old", "a newer version")
    with pytest.raises(IncompatibleDatabase):
        open_clinic(blank.settings())


def test_a_desktop_meets_a_central_database_nobody_upgraded(blank: Blank, tmp_path: Path) -> None:
    if blank.kind == "sqlite":
        pytest.skip("the embedded database is upgraded by the desktop itself (copied first)")
    schema.upgrade(blank.url, "0001")
    _refused(run_cli(blank.cli_env(tmp_path)), "has not been upgraded", "hms-desktop db upgrade")
    schema.upgrade(blank.url)
    assert gate_problem(blank.settings()) is None
