"""The Reports page: loads lazily, shows a row per doctor (or speciality), draws the chart
and writes CSV and PDF files off the GUI thread."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import QDate, Qt
from PySide6.QtGui import QColor
from PySide6.QtPrintSupport import QPrinter
from pytestqt.qtbot import QtBot

from hms_desktop.domain.enums import AppointmentStatus, Role
from hms_desktop.domain.models import ChangeEvent
from hms_desktop.domain.reports import ReportGroup
from hms_desktop.services import scheduling
from hms_desktop.services.clinic import Clinic
from hms_desktop.services.local import LocalBackend
from hms_desktop.ui.admin import reports as reports_page
from hms_desktop.ui.admin.pages import PAGES
from hms_desktop.ui.admin.report_output import report_html, report_title
from hms_desktop.ui.admin.reports import ReportsPage
from hms_desktop.ui.main_window import MainWindow
from hms_desktop.ui.tasks import Tasks
from tests import factories
from tests.services.support import free_slot_ids
from tests.ui.conftest import Desk, settle

LEFT = Qt.MouseButton.LeftButton


@pytest.fixture
def admin_desk(clinic: Clinic) -> Iterator[Desk]:
    user, _ = factories.staff(clinic, Role.ADMIN, first_name="Ada", last_name="Admin")
    backend = LocalBackend(clinic)
    backend.login(user.username, factories.PASSWORD)
    yield Desk(clinic, backend, backend.current_user or user, [], [], [])
    backend.close()


def _seed(clinic: Clinic) -> int:
    """Ann Busy's four bookings (cancelled, no-show, arrived, pending) and idle Ben; answers
    Ann's doctor id."""
    _, desk = factories.staff(clinic)
    heart = factories.speciality(clinic, "Cardiology")
    busy = factories.doctor(clinic, specialisation_ids=[heart], first_name="Ann", last_name="Busy")
    factories.doctor(clinic, specialisation_ids=[heart], first_name="Ben", last_name="Idle")
    for slot_id, step in zip(
        free_slot_ids(clinic, busy.doctor_id, 4),
        ("cancel", AppointmentStatus.NO_SHOW, AppointmentStatus.ARRIVED, None),
        strict=True,
    ):
        patient = factories.patient(clinic)
        scheduling.hold_slot(clinic, desk, slot_id, patient.id)
        booked = scheduling.confirm_booking(clinic, desk, slot_id, patient.id)
        if step == "cancel":
            scheduling.cancel_appointment(clinic, desk, booked.id)
        elif step is not None:
            scheduling.set_status(clinic, desk, booked.id, step)
    return busy.doctor_id


def test_the_page_shows_the_figures_and_exports_them(
    qtbot: QtBot, admin_desk: Desk, tmp_path: Path
) -> None:
    clinic = admin_desk.clinic
    _seed(clinic)
    assert ("reports", "Reports", ReportsPage) in PAGES
    tasks = Tasks()
    page = ReportsPage(admin_desk.backend, tasks, clinic.settings.tz, None)
    qtbot.addWidget(page)
    page.show()
    assert page.model.rowCount() == 0  # nothing is asked for until the page is shown
    today = clinic.today()
    assert page.first.date().daysTo(page.last.date()) == 29  # the last 30 days
    page.start()
    settle(qtbot, tasks)
    assert page.report is not None
    page.last.setDate(QDate(*(today + timedelta(days=9)).timetuple()[:3]))
    qtbot.mouseClick(page.show_button, LEFT)
    settle(qtbot, tasks)
    rows = {row.name: row for row in page.model.records}
    assert set(rows) == {"Ann Busy", "Ben Idle"}
    ann = rows["Ann Busy"]
    assert (ann.booked, ann.attended, ann.no_show, ann.cancelled, ann.pending) == (4, 1, 1, 1, 1)
    row = page.model.records.index(ann)
    shown = [page.model.index(row, column).data() for column in range(8)]
    assert shown == ["Ann Busy", 4, 1, 1, 1, 1, "33.3 %", "33.3 %"]
    assert page.chart.bars[0] == ("Ann Busy", pytest.approx(1 / 3))  # no-show rate
    page.figure.setCurrentIndex(1)  # utilisation
    assert page.chart.bars[1] == ("Ben Idle", 0.0)

    target = tmp_path / "report.csv"
    page.choose_csv = lambda: str(target)
    qtbot.mouseClick(page.csv_button, LEFT)
    settle(qtbot, tasks)
    lines = target.read_text(encoding="utf-8").splitlines()
    assert lines[0] == (
        "name,booked,attended,no_show,cancelled,pending,attended_rate,no_show_rate,"
        "cancelled_rate,booked_minutes,offered_minutes,utilisation,avg_lead_hours,"
        "avg_wait_minutes,waitlist_fills"
    )
    assert lines[1].startswith("Ann Busy,4,1,1,1,1,0.333,0.333,0.250,90,")
    assert lines[2].startswith("Ben Idle,0,0,0,0,0,,,,0,")
    assert len(lines) == 3

    pdf = tmp_path / "report.pdf"
    page.choose_pdf = lambda: str(pdf)
    qtbot.mouseClick(page.pdf_button, LEFT)
    settle(qtbot, tasks)
    assert pdf.read_bytes().startswith(b"%PDF")

    page.group.setCurrentIndex(1)  # per speciality: loads at once
    settle(qtbot, tasks)
    assert page.report.group is ReportGroup.SPECIALITY
    assert [(r.name, r.booked) for r in page.model.records] == [("Cardiology", 4)]


def test_a_range_the_wrong_way_round_is_refused_on_the_page(qtbot: QtBot, admin_desk: Desk) -> None:
    tasks = Tasks()
    page = ReportsPage(admin_desk.backend, tasks, admin_desk.clinic.settings.tz, None)
    qtbot.addWidget(page)
    page.first.setDate(page.last.date().addDays(3))
    page.reload()
    assert "before the first" in page.errors.message("last")
    settle(qtbot, tasks)
    assert page.report is None


def _shown_page(qtbot: QtBot, admin_desk: Desk) -> tuple[ReportsPage, Tasks]:
    """The page showing the last 30 days and the next 10 (Ann's bookings are ahead)."""
    tasks = Tasks()
    page = ReportsPage(admin_desk.backend, tasks, admin_desk.clinic.settings.tz, None)
    qtbot.addWidget(page)
    page.show()
    page.last.setDate(QDate(*(admin_desk.clinic.today() + timedelta(days=9)).timetuple()[:3]))
    page.start()
    settle(qtbot, tasks)
    assert page.report is not None
    return page, tasks


def test_print_renders_the_chart_and_table_on_the_chosen_printer(
    qtbot: QtBot, admin_desk: Desk, tmp_path: Path
) -> None:
    _seed(admin_desk.clinic)
    page, tasks = _shown_page(qtbot, admin_desk)
    target = tmp_path / "printed.pdf"
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(target))
    chosen: list[QPrinter] = []
    page.choose_printer = lambda: chosen.append(printer) or printer
    with qtbot.waitSignal(page.message, timeout=10_000) as said:
        qtbot.keyClick(page, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)  # Ctrl+P
    settle(qtbot, tasks)
    assert chosen == [printer]
    assert said.args == [f"Printed the report to {target}."]
    printed = target.read_bytes()
    assert printed.startswith(b"%PDF")
    assert b"/Subtype /Image" in printed  # the chart's picture
    assert b"/Font" in printed  # the table's text
    assert page.print_button.isEnabled()
    # The same page as "Save PDF…" (which the first test checks), not a second layout.
    assert report_html(page.report, report_title(page.report)).count("<tr>") == 3

    chosen.clear()
    page.choose_printer = lambda: None  # the print dialog cancelled
    qtbot.mouseClick(page.print_button, LEFT)
    settle(qtbot, tasks)
    assert page.summary.text() == "Printed to printed.pdf."


@pytest.mark.latency  # a wall-clock bound (the interval after a burst): run alone in CI
def test_the_figures_follow_the_desks_changes_at_most_once_per_interval(
    qtbot: QtBot, admin_desk: Desk, window_for: Callable[[Desk], MainWindow], monkeypatch
) -> None:
    clinic = admin_desk.clinic
    ann = _seed(clinic)
    monkeypatch.setattr(reports_page, "LIVE_REFRESH_MS", 400)
    asked: list[tuple[object, ...]] = []
    counted = admin_desk.backend.report

    asked_at: list[float] = []

    def report(*args: object) -> object:
        asked.append(args)
        asked_at.append(time.monotonic())
        return counted(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(admin_desk.backend, "report", report)
    window = window_for(admin_desk)
    window.show_view("admin")
    assert window.admin is not None
    page = window.admin.show_page("reports")
    assert isinstance(page, ReportsPage)
    settle(qtbot, window.tasks)
    page.last.setDate(QDate(*(clinic.today() + timedelta(days=9)).timetuple()[:3]))
    qtbot.mouseClick(page.show_button, LEFT)
    settle(qtbot, window.tasks)
    assert {r.name: r.booked for r in page.model.records}["Ann Busy"] == 4
    asked.clear()
    asked_at.clear()

    # A burst at another desk: three bookings and a status, heard one by one.
    _, desk = factories.staff(clinic)
    booked = []
    burst = time.monotonic()
    for slot_id in free_slot_ids(clinic, ann, 3, days_ahead=2):
        patient = factories.patient(clinic)
        scheduling.hold_slot(clinic, desk, slot_id, patient.id)
        booked.append(scheduling.confirm_booking(clinic, desk, slot_id, patient.id))
    scheduling.set_status(clinic, desk, booked[0].id, AppointmentStatus.NO_SHOW)
    assert asked == []
    qtbot.waitUntil(
        lambda: {r.name: r.booked for r in page.model.records}["Ann Busy"] == 7, timeout=10_000
    )
    qtbot.wait(1_000)  # more than the interval: no second count for the same burst
    settle(qtbot, window.tasks)
    assert len(asked) == 1
    assert asked_at[0] - burst >= 0.4  # not at once: the interval after the first change
    ann_row = next(r for r in page.model.records if r.name == "Ann Busy")
    assert (ann_row.booked, ann_row.no_show) == (7, 2)

    # Changes the figures do not count, or outside the days shown: nothing to do.
    far = (datetime.now(UTC) + timedelta(days=400)).isoformat()
    for event in (ChangeEvent("hold", slot_id=1), ChangeEvent("book", start=far)):
        page.on_change(event)
    assert not page.live_timer.isActive()

    # On another tab the page is not counted again until it is shown.
    window.admin.show_page("staff")
    settle(qtbot, window.tasks)
    asked.clear()
    asked_at.clear()
    scheduling.cancel_appointment(clinic, desk, booked[1].id)
    qtbot.waitUntil(lambda: not page.live_timer.isActive() and page._stale, timeout=5_000)
    settle(qtbot, window.tasks)
    assert asked == []
    window.admin.show_page("reports")
    qtbot.waitUntil(lambda: len(asked) == 1, timeout=5_000)
    settle(qtbot, window.tasks)
    ann_row = next(r for r in page.model.records if r.name == "Ann Busy")
    assert (ann_row.booked, ann_row.cancelled) == (7, 2)


def test_a_long_chart_scrolls_above_the_table_in_a_small_window(
    qtbot: QtBot, admin_desk: Desk, window_for: Callable[[Desk], MainWindow]
) -> None:
    """Seen under Xvfb at 1024x640: a chart of 20 doctors is taller than the page has room
    for, and it was drawn over the table and the summary line. It scrolls in its own part
    of the page now, and the table below keeps its rows in sight."""
    window = window_for(admin_desk)
    window.resize(1024, 640)
    window.show_view("admin")
    assert window.admin is not None
    page = window.admin.show_page("reports")
    assert isinstance(page, ReportsPage)
    settle(qtbot, window.tasks)
    page.chart.set_bars([(f"Doctor {n}", n / 40) for n in range(40)], QColor(200, 70, 60))
    qtbot.wait(50)
    chart_area = page.chart.parentWidget().parentWidget()  # the scroll area's viewport's parent
    table = page.table
    chart_bottom = chart_area.mapTo(page, chart_area.rect().bottomLeft()).y()
    table_top = table.mapTo(page, table.rect().topLeft()).y()
    summary_top = page.summary.mapTo(page, page.summary.rect().topLeft()).y()
    assert chart_bottom < table_top < summary_top
    assert page.chart.height() > chart_area.height()  # taller than its part: it scrolls
    assert table.height() >= chart_area.height() // 2  # the table is not squeezed out
