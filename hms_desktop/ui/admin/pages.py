"""The admin area's pages, in the order their tabs appear: (key, title, page class). Each
page is built as `Page(backend, tasks, tz, parent)`."""

from __future__ import annotations

from collections.abc import Callable
from zoneinfo import ZoneInfo

from PySide6.QtWidgets import QWidget

from hms_desktop.services.backend import Backend
from hms_desktop.ui.admin.catalogue import CataloguePage
from hms_desktop.ui.admin.doctors import DoctorsPage
from hms_desktop.ui.admin.inbox import InboxPage
from hms_desktop.ui.tasks import Tasks

PageFactory = Callable[[Backend, Tasks, ZoneInfo, QWidget | None], QWidget]

PAGES: list[tuple[str, str, PageFactory]] = []
PAGES.append(("doctors", "Doctors", DoctorsPage))
PAGES.append(("catalogue", "Catalogue", CataloguePage))
PAGES.append(("inbox", "Contact inbox", InboxPage))
