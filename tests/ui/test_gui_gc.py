"""Reference cycles that hold Qt objects are collected on the GUI thread, never on a worker
(a widget destroyed off the GUI thread crashes the process)."""

from __future__ import annotations

import gc
import threading
import weakref

from PySide6.QtCore import QObject
from pytestqt.qtbot import QtBot

from hms_desktop.ui.gui_gc import GuiThreadCollector


class _Cyclic(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.me = self


def _make_cycles_on_a_worker() -> None:
    """Enough young cycles to cross every generation's threshold several times."""

    def churn() -> None:
        for _ in range(300_000):
            cycle: list[object] = []
            cycle.append(cycle)

    worker = threading.Thread(target=churn)
    worker.start()
    worker.join()


def test_a_qt_object_in_a_cycle_is_collected_on_the_gui_thread(qtbot: QtBot) -> None:
    collector = GuiThreadCollector()
    collector.start()
    try:
        collected_on: list[int] = []
        doomed = _Cyclic()
        weakref.finalize(doomed, lambda: collected_on.append(threading.get_ident()))
        del doomed
        _make_cycles_on_a_worker()
        assert collected_on == [], "a worker thread collected the Qt object"
        qtbot.waitUntil(lambda: bool(collected_on), timeout=5_000)
        assert collected_on == [threading.get_ident()]
    finally:
        collector.stop()


def test_stopping_gives_collection_back_to_python() -> None:
    was_enabled = gc.isenabled()
    gc.enable()
    collector = GuiThreadCollector()
    collector.start()
    assert not gc.isenabled()
    collector.stop()
    assert gc.isenabled()
    if not was_enabled:
        gc.disable()
