"""The admin area's pages, in the order of their tabs: (key, title, page class). Each page
is built as `Page(backend, tasks, tz, parent)` and testable on its own."""

from __future__ import annotations

from collections.abc import Callable
from zoneinfo import ZoneInfo

from PySide6.QtWidgets import QWidget

from hms_desktop.services.backend import Backend
from hms_desktop.ui.admin.leave import LeavePage
from hms_desktop.ui.tasks import Tasks

PageFactory = Callable[[Backend, Tasks, ZoneInfo, QWidget | None], QWidget]

PAGES: list[tuple[str, str, PageFactory]] = []
PAGES.append(("leave", "Leave and holidays", LeavePage))
