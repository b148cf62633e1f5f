"""Fixtures shared by every test package: stores, clinics, and a few ready-made people."""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import bcrypt
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from hms_desktop.services.clinic import Clinic, open_clinic
from tests import stores
from tests.stores import STORES, StoreSpec

_real_gensalt: Callable[..., bytes] = bcrypt.gensalt


def _own_user_folders_per_worker() -> None:
    """Under pytest-xdist (CI runs `-n 2`) each worker process gets its own user data,
    config and log folders, so two tests that fall back to the defaults (the embedded
    database, the desktop's log file) never share a file. Databases, Redis key prefixes,
    ports and temporary folders are already each test's own."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return
    root = Path(tempfile.mkdtemp(prefix=f"hms-tests-{worker}-"))
    atexit.register(shutil.rmtree, root, True)
    for variable in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME"):
        folder = root / variable.lower()
        folder.mkdir()
        os.environ[variable] = str(folder)


_own_user_folders_per_worker()


def _qt_in_use(request: pytest.FixtureRequest) -> bool:
    if "qtbot" in request.fixturenames or "qapp" in request.fixturenames:
        return True
    widgets = sys.modules.get("PySide6.QtWidgets")
    return widgets is not None and widgets.QApplication.instance() is not None


@pytest.fixture(autouse=True)
def garbage_collected_on_gui_thread(request: pytest.FixtureRequest) -> Iterator[None]:
    """As in the desktop (ui/gui_gc.py): while Qt objects exist, cycles are collected on the
    GUI thread only; a worker thread collecting a cycle that holds a widget kills the run."""
    if not _qt_in_use(request):
        yield
        return
    request.getfixturevalue("qapp")
    from hms_desktop.ui.gui_gc import GuiThreadCollector

    collector = GuiThreadCollector()
    collector.start()
    try:
        yield
    finally:
        collector.stop()


@pytest.fixture(autouse=True)
def cheap_bcrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests make many accounts: their passwords are hashed at bcrypt's lowest cost so the
    suite stays fast (one test checks the production cost with the patch undone)."""

    def gensalt(rounds: int = 12, prefix: bytes = b"2b") -> bytes:
        return _real_gensalt(4, prefix)

    monkeypatch.setattr(bcrypt, "gensalt", gensalt)


@pytest.fixture(scope="session")
def sqlite_templates() -> Iterator[stores._SqliteTemplates]:
    templates = stores._SqliteTemplates()
    yield templates
    templates.cleanup()


@pytest.fixture(scope="session")
def postgres_templates() -> Iterator[stores._PostgresTemplates | None]:
    if not stores.DATABASE_URL:
        yield None
        return
    templates = stores._PostgresTemplates(stores.DATABASE_URL)
    yield templates
    templates.cleanup()


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest) -> Iterator[StoreSpec]:
    """A fresh, migrated, empty clinic store: SQLite + built-in locks, or PostgreSQL + Redis."""
    yield from stores.provide(request, request.param)


@pytest.fixture
def open_store(store: StoreSpec) -> Iterator[Callable[..., Clinic]]:
    """Open (another) Clinic on the test's store, e.g. one per desk; all closed afterwards."""
    opened: list[Clinic] = []

    def _open(**overrides: object) -> Clinic:
        clinic = open_clinic(store.settings(**overrides), migrate=False)
        opened.append(clinic)
        return clinic

    yield _open
    for clinic in opened:
        clinic.close()


@pytest.fixture
def clinic(open_store: Callable[..., Clinic]) -> Clinic:
    return open_store()
