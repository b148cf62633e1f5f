"""The admin area's pages, one tab each, in this order. A page is a QWidget built as
`Page(backend, tasks, tz, parent)`; it may have `start()` (called when first shown),
`reload()` (F5), `on_change(event)` (live changes) and a `message` signal (status bar)."""

from __future__ import annotations

from collections.abc import Callable
from zoneinfo import ZoneInfo

from PySide6.QtWidgets import QWidget

from hms_desktop.services.backend import Backend
from hms_desktop.ui.admin.audit import AuditLogPage
from hms_desktop.ui.admin.catalogue import CataloguePage
from hms_desktop.ui.admin.clinic import ClinicPage
from hms_desktop.ui.admin.doctors import DoctorsPage
from hms_desktop.ui.admin.hours import HoursPage
from hms_desktop.ui.admin.inbox import InboxPage
from hms_desktop.ui.admin.leave import LeavePage
from hms_desktop.ui.admin.reports import ReportsPage
from hms_desktop.ui.admin.staff import StaffPage
from hms_desktop.ui.tasks import Tasks

PageFactory = Callable[[Backend, Tasks, ZoneInfo, QWidget | None], QWidget]

PAGES: list[tuple[str, str, PageFactory]] = []
PAGES.append(("staff", "Staff", StaffPage))
PAGES.append(("doctors", "Doctors", DoctorsPage))
PAGES.append(("hours", "Weekly hours", HoursPage))
PAGES.append(("leave", "Leave and holidays", LeavePage))
PAGES.append(("catalogue", "Catalogue", CataloguePage))
PAGES.append(("inbox", "Contact inbox", InboxPage))
PAGES.append(("reports", "Reports", ReportsPage))
PAGES.append(("audit", "Audit log", AuditLogPage))
PAGES.append(("clinic", "Clinic", ClinicPage))
