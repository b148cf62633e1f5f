"""Python's garbage collector run on the GUI thread only.

Python collects reference cycles on whichever thread happens to allocate when a threshold is
crossed. In the desktop that is often a worker-pool thread running a backend call; if the
cycle holds a Qt object (a closed dialog whose slots are lambdas over itself, say), Qt then
destroys a widget off the GUI thread, and the process dies with a segmentation fault (seen
in CI: "Garbage-collecting" on a pool thread inside `audit_page`). So automatic collection
is switched off and a timer on the GUI thread collects instead, generation by generation, as
often as Python itself would have."""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

# How often the GUI thread looks at the allocation counts. Young collections are cheap and
# a tenth of a second is far shorter than any screen stays open.
CHECK_INTERVAL_MS = 100


class GuiThreadCollector(QObject):
    """While started, cycles are collected on the thread that owns this object (the GUI
    thread), never on a worker."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._timer = QTimer(self)
        self._timer.setInterval(CHECK_INTERVAL_MS)
        self._timer.timeout.connect(self.collect_due)
        self._was_enabled = gc.isenabled()

    def start(self) -> None:
        self._was_enabled = gc.isenabled()
        gc.disable()
        self._timer.start()

    def stop(self) -> None:
        """Collect what is left here, on the GUI thread, and give collection back to Python."""
        self._timer.stop()
        gc.collect()
        if self._was_enabled:
            gc.enable()

    def collect_due(self) -> None:
        """Collect the oldest generation whose count has passed its threshold, as Python's
        own automatic collection would."""
        counts, thresholds = gc.get_count(), gc.get_threshold()
        due = [gen for gen in range(3) if counts[gen] > thresholds[gen]]
        if due:
            gc.collect(max(due))


_collector: GuiThreadCollector | None = None


def collect_on_gui_thread_only() -> GuiThreadCollector:
    """Start the process's collector (once); call it on the GUI thread."""
    global _collector
    if _collector is None:
        _collector = GuiThreadCollector()
        _collector.start()
    return _collector
