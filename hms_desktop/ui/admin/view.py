"""`AdminView`: the admin area, one tab per page of `pages.PAGES`. Generic: it knows pages
only by what `pages.py` says a page may have."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QTabWidget, QWidget

from hms_desktop.domain.models import ChangeEvent
from hms_desktop.services.backend import Backend
from hms_desktop.ui.admin.pages import PAGES
from hms_desktop.ui.tasks import Tasks


class AdminView(QTabWidget):
    message = Signal(str)

    def __init__(
        self, backend: Backend, tasks: Tasks, tz: ZoneInfo, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("AdminView")
        self.setDocumentMode(True)
        self.pages: dict[str, QWidget] = {}
        self._started: set[str] = set()
        self._active = False
        for key, title, factory in PAGES:
            page = factory(backend, tasks, tz, self)
            self.pages[key] = page
            self.addTab(page, title)
            signal = getattr(page, "message", None)
            if signal is not None:
                signal.connect(self.message)
        self.currentChanged.connect(lambda _index: self._start_current())

    @property
    def keys(self) -> list[str]:
        return list(self.pages)

    def page(self, key: str) -> QWidget:
        return self.pages[key]

    def show_page(self, key: str) -> QWidget:
        self.setCurrentIndex(self.keys.index(key))
        self._start_current()
        return self.pages[key]

    def start(self) -> None:
        """Load the page on show; the others load when first opened (no admin call is made
        before an admin opens the area)."""
        self._active = True
        self._start_current()

    def _start_current(self) -> None:
        if not self._active or self.currentIndex() < 0:
            return
        key = self.keys[self.currentIndex()]
        if key in self._started:
            return
        self._started.add(key)
        start = getattr(self.pages[key], "start", None)
        if start is not None:
            start()

    def reload(self) -> None:
        for key in self._started:
            reload = getattr(self.pages[key], "reload", None)
            if reload is not None:
                reload()

    def on_change(self, event: ChangeEvent) -> None:
        for key in self._started:
            listener = getattr(self.pages[key], "on_change", None)
            if listener is not None:
                listener(event)
