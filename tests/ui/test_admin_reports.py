"""The Reports page: loads lazily, shows a row per doctor (or speciality), draws the chart
and writes CSV and PDF files off the GUI thread."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import QDate, Qt
from pytestqt.qtbot import QtBot

from hms_desktop.domain.enums import AppointmentStatus, Role
from hms_desktop.domain.reports import ReportGroup
from hms_desktop.services import scheduling
from hms_desktop.services.clinic import Clinic
from hms_desktop.services.local import LocalBackend
from hms_desktop.ui.admin.pages import PAGES
from hms_desktop.ui.admin.reports import ReportsPage
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


def _seed(clinic: Clinic) -> None:
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
        "avg_wait_minutes"
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
