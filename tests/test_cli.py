"""The command line as IT runs it: `python -m hms_desktop ...` in a subprocess, against a
fresh, empty database (SQLite always; PostgreSQL + Redis when the test services are set)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import create_engine, pool, text
from sqlalchemy.engine import make_url

from hms_desktop.config import Settings
from hms_desktop.domain.models import SYSTEM
from hms_desktop.services import accounts, scheduling
from hms_desktop.services.clinic import open_clinic
from hms_desktop.services.demo import DEMO_DOCTOR, counts_of
from hms_desktop.services.local import DEMO_RECEPTIONIST
from tests import stores

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class EmptyStore:
    database_url: str
    redis_url: str = ""
    redis_prefix: str = "hms:"

    def env(self, tmp_path: Path, **extra: str) -> dict[str, str]:
        """The environment of a fresh shell with only this store configured."""
        env = {key: value for key, value in os.environ.items() if not key.startswith("HMS_")}
        config = tmp_path / "config.toml"
        config.touch()
        env.update(
            HMS_CONFIG=str(config),
            HMS_DATABASE_URL=self.database_url,
            HMS_REDIS_URL=self.redis_url,
            HMS_REDIS_PREFIX=self.redis_prefix,
            HMS_LOG_LEVEL="WARNING",
            PYTHONPATH=str(ROOT),
        )
        env.update(extra)
        return env

    def settings(self) -> Settings:
        return Settings(
            database_url=self.database_url,
            redis_url=self.redis_url,
            redis_prefix=self.redis_prefix,
        )


@pytest.fixture(params=stores.STORES)
def empty_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EmptyStore]:
    """A database nobody has migrated yet."""
    if request.param == "sqlite":
        yield EmptyStore(f"sqlite:///{tmp_path / 'clinic.sqlite3'}")
        return
    if not stores.DATABASE_URL or not stores.REDIS_URL:
        stores.unavailable("HMS_TEST_DATABASE_URL and HMS_TEST_REDIS_URL are not set")
    stores.check_redis()
    server = make_url(stores.DATABASE_URL)
    admin = create_engine(server, poolclass=pool.NullPool, isolation_level="AUTOCOMMIT")
    name = f"hms_cli_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # noqa: BLE001 - any connection failure means "unavailable"
        admin.dispose()
        stores.unavailable(f"PostgreSQL at {server.render_as_string()}: {error}")
    prefix = f"hmstest:{uuid.uuid4().hex[:12]}:"
    yield EmptyStore(
        server.set(database=name).render_as_string(hide_password=False), stores.REDIS_URL, prefix
    )
    stores.clear_prefix(prefix)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def run(env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hms_desktop", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
        check=False,
    )


def test_upgrade_check_create_user_and_demo_data(empty_store: EmptyStore, tmp_path: Path) -> None:
    env = empty_store.env(tmp_path)

    unmigrated = run(env, "check")
    assert unmigrated.returncode != 0
    assert "FAIL schema" in unmigrated.stdout
    assert "hms-desktop db upgrade" in unmigrated.stdout

    upgraded = run(env, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    assert "database at revision" in upgraded.stdout

    healthy = run(env, "check")
    assert healthy.returncode == 0, healthy.stdout + healthy.stderr
    assert "ok   database" in healthy.stdout
    assert "(head)" in healthy.stdout
    if empty_store.redis_url:
        assert "ok   redis: answers" in healthy.stdout

    created = run(
        env, "create-user", "--username", "itadmin", "--role", "admin", "--password-stdin",
        stdin="s3cret-pass\n",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    assert "created admin itadmin" in created.stdout
    again = run(
        env, "create-user", "--username", "ITadmin", "--role", "receptionist", "--password-stdin",
        stdin="other-pass-1\n",
    )  # fmt: skip
    assert again.returncode == 1
    assert "Username already exists." in again.stderr
    too_short = run(
        env, "create-user", "--username", "desk2", "--role", "receptionist", "--password-stdin",
        stdin="short\n",
    )  # fmt: skip
    assert too_short.returncode == 1
    assert "at least 8 characters" in too_short.stderr

    first = run(env, "demo-data")
    assert first.returncode == 0, first.stderr
    assert "Demo clinic loaded" in first.stdout
    clinic = open_clinic(empty_store.settings(), migrate=False)
    try:
        counts = counts_of(clinic)
        second = run(env, "demo-data")
        assert second.returncode == 0, second.stderr
        assert "already loaded" in second.stdout
        assert counts_of(clinic) == counts

        assert counts["specialisations"] >= 8
        assert counts["doctors"] == 20
        assert counts["patients"] == 200
        assert counts["pending_requests"] >= 5
        assert counts["reviews"] > 0 and counts["services"] > 0 and counts["contacts"] > 0
        assert accounts.password_is(clinic, "itadmin", "s3cret-pass")
        assert accounts.password_is(clinic, *DEMO_RECEPTIONIST)
        doctor = accounts.authenticate(clinic, *DEMO_DOCTOR)
        assert doctor.doctor_id is not None
        day = scheduling.doctor_day(clinic, SYSTEM, doctor.doctor_id, clinic.today())
        assert day, "the demo doctor's day is empty"
        statuses = {record.status for record in scheduling.list_appointments(clinic, SYSTEM).items}
        assert {"completed", "no_show", "cancelled", "scheduled", "requested"} <= statuses
    finally:
        clinic.close()


def test_check_fails_when_redis_does_not_answer(tmp_path: Path) -> None:
    store = EmptyStore(f"sqlite:///{tmp_path / 'clinic.sqlite3'}", "redis://127.0.0.1:1/0")
    env = store.env(tmp_path)
    assert run(env, "db", "upgrade").returncode == 0
    result = run(env, "check")
    assert result.returncode == 1
    assert "ok   database" in result.stdout
    assert "FAIL redis: not reachable" in result.stdout


def test_check_masks_secrets(tmp_path: Path) -> None:
    store = EmptyStore("postgresql+psycopg://clinic:hunter2-secret@127.0.0.1:1/clinic")
    result = run(store.env(tmp_path, HMS_SECRET_KEY="a-real-secret-key-value"), "check")
    assert result.returncode == 1
    assert "hunter2-secret" not in result.stdout
    assert "a-real-secret-key-value" not in result.stdout
    assert "postgresql+psycopg://clinic:****@127.0.0.1:1/clinic" in result.stdout
    assert "secret_key = ****" in result.stdout
    assert "FAIL database: not reachable" in result.stdout


class _VersionHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path != "/api/version":
            self.send_error(404)
            return
        body = json.dumps({"api_version": "1", "server_version": "9.9.9"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def version_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _VersionHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_check_in_remote_mode_asks_the_api(tmp_path: Path, version_server: str) -> None:
    store = EmptyStore("")
    answering = run(store.env(tmp_path, HMS_MODE="remote", HMS_API_URL=version_server), "check")
    assert answering.returncode == 0, answering.stdout
    assert "ok   api: answers (API 1, server 9.9.9)" in answering.stdout
    assert "ok   database" not in answering.stdout and "FAIL database" not in answering.stdout

    older = run(
        store.env(tmp_path, HMS_MODE="remote", HMS_API_URL=version_server + "/old"), "check"
    )
    # A web server that is no clinic server (here: 404 for /api/version) fails the check.
    assert older.returncode == 1, older.stdout
    assert (
        f"FAIL api: {version_server}/old/api/version answered HTTP 404: this is not an "
        "hms-desktop clinic server" in older.stdout
    )

    gone = run(store.env(tmp_path, HMS_MODE="remote", HMS_API_URL="http://127.0.0.1:1"), "check")
    assert gone.returncode == 1
    assert "FAIL api: http://127.0.0.1:1/api/version not reachable" in gone.stdout


class _WebPageHandler(BaseHTTPRequestHandler):
    """Some other web server: a page for every address (a proxy's default, an intranet)."""

    def do_GET(self) -> None:
        body = b"<html><body>It works!</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


def test_check_fails_against_a_web_server_that_is_no_clinic_server(tmp_path: Path) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _WebPageHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        result = run(EmptyStore("").env(tmp_path, HMS_MODE="remote", HMS_API_URL=url), "check")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    assert result.returncode == 1, result.stdout
    assert (
        f"FAIL api: {url}/api/version gave no desk API version: this is not an hms-desktop "
        "clinic server" in result.stdout
    )


def test_a_fresh_machine_gets_its_embedded_database_in_the_user_data_folder(
    tmp_path: Path,
) -> None:
    """The README's newcomer path with no configuration at all: the data folder does not
    exist yet, and both `db upgrade` and the app's own start (open_clinic) create it."""
    home = tmp_path / "home"
    home.mkdir()
    env = {key: value for key, value in os.environ.items() if not key.startswith(("HMS_", "XDG_"))}
    env.update(HOME=str(home), PYTHONPATH=str(ROOT), HMS_LOG_LEVEL="WARNING")
    database = home / ".local" / "share" / "hms-desktop" / "hms.sqlite3"

    for command in (["db", "upgrade"], ["check"]):
        result = subprocess.run(
            [sys.executable, "-m", "hms_desktop", *command],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
    assert database.is_file()

    nested = tmp_path / "not" / "yet" / "there" / "clinic.sqlite3"
    clinic = open_clinic(Settings(database_url=f"sqlite:///{nested}"))
    clinic.close()
    assert nested.is_file()


def test_the_desktop_names_every_missing_qt_library_before_qt_starts(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from hms_desktop import cli
    from hms_desktop.app import qt_libraries

    absent = {"libxcb-cursor.so.0", "libxcb-icccm.so.4", "libxcb-keysyms.so.1"}
    monkeypatch.setattr(qt_libraries, "_loads", lambda name: name not in absent)
    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")
    monkeypatch.setenv("HMS_LOG_DIR", str(tmp_path / "logs"))
    monkeypatch.setenv("HOME", str(tmp_path))

    def qt_must_not_start(*_args: object, **_kwargs: object) -> int:
        raise AssertionError("Qt was started although its libraries are missing")

    monkeypatch.setattr("hms_desktop.app.desktop.start_desktop", qt_must_not_start)
    assert cli.main([]) == 3
    said = capsys.readouterr().err
    assert "sudo apt-get install libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1\n" in said
    assert "libxcb-shape0" not in said  # only what is missing


def test_qt_libraries_are_looked_for_only_where_qt_uses_xcb() -> None:
    from hms_desktop.app import qt_libraries

    assert qt_libraries.uses_xcb({}, "linux")
    assert qt_libraries.uses_xcb({"QT_QPA_PLATFORM": "xcb"}, "linux")
    assert not qt_libraries.uses_xcb({"QT_QPA_PLATFORM": "offscreen"}, "linux")
    assert not qt_libraries.uses_xcb({"WAYLAND_DISPLAY": "wayland-0"}, "linux")
    assert not qt_libraries.uses_xcb({}, "win32")
    assert qt_libraries.problem({"QT_QPA_PLATFORM": "xcb"}, loads=lambda _name: True) is None


def test_a_first_start_of_the_desktop_is_quiet(tmp_path: Path) -> None:
    """The desktop's own start on a fresh machine (logging as the desktop sets it up, the
    migrations, the demo clinic) prints nothing to the terminal: it only speaks when
    something is wrong."""
    home = tmp_path / "home"
    home.mkdir()
    env = {key: value for key, value in os.environ.items() if not key.startswith(("HMS_", "XDG_"))}
    env.update(HOME=str(home), PYTHONPATH=str(ROOT), PYTHONWARNINGS="default")
    start = (
        "from hms_desktop import logs\n"
        "from hms_desktop.app.bootstrap import open_backend\n"
        "from hms_desktop.config import load_settings\n"
        "settings = load_settings()\n"
        "logs.log_to_file(settings)\n"
        "backend = open_backend(settings)\n"
        "assert backend.demo_login_hint() is not None\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", start], capture_output=True, text=True, env=env, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert (result.stdout, result.stderr) == ("", "")


def test_a_crash_of_the_desktop_process_leaves_its_stack_in_the_log_folder(tmp_path: Path) -> None:
    """A segmentation fault ends the process before logging can say anything: the crash
    file in the log folder still says where every thread was."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("HMS_", "XDG_"))}
    env.update(HOME=str(tmp_path), PYTHONPATH=str(ROOT), HMS_LOG_DIR=str(tmp_path / "logs"))
    crash = (
        "import faulthandler\n"
        "from hms_desktop import logs\n"
        "from hms_desktop.config import load_settings\n"
        "settings = load_settings()\n"
        "logs.log_to_file(settings)\n"
        "logs.record_crashes(settings)\n"
        "def where_it_crashed():\n"
        "    faulthandler._sigsegv()\n"
        "where_it_crashed()\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", crash], capture_output=True, text=True, env=env, timeout=60
    )
    assert result.returncode != 0
    written = (tmp_path / "logs" / "hms-desktop-crash.log").read_text()
    assert "hms-desktop started" in written
    assert "Segmentation fault" in written and "where_it_crashed" in written


def test_every_library_the_desktop_looks_for_is_in_the_readmes_install_list() -> None:
    from hms_desktop.app import qt_libraries

    listed = set((ROOT / "debian-packages.txt").read_text().split())
    assert set(qt_libraries.XCB_LIBRARIES.values()) <= listed
