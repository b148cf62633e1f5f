"""The admin's doctors page and editor, catalogue page and contact inbox, clicked through
with real widgets on a real database: bad input (empty name, negative fee, a file that is
not a picture, deleting what is in use) is shown next to its field and nothing is saved."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from hms_desktop.domain.doctor_records import CatalogueKind
from hms_desktop.domain.enums import Role
from hms_desktop.domain.models import SYSTEM
from hms_desktop.services import catalogue, doctor_admin, scheduling
from hms_desktop.services.clinic import Clinic
from hms_desktop.services.local import LocalBackend
from hms_desktop.ui.admin import fields
from hms_desktop.ui.admin.catalogue import CataloguePage
from hms_desktop.ui.admin.doctor_editor import DoctorEditor
from hms_desktop.ui.admin.doctors import DoctorsPage
from hms_desktop.ui.admin.inbox import InboxPage
from hms_desktop.ui.admin.pages import PAGES
from hms_desktop.ui.tasks import Tasks
from tests import factories
from tests.services.support import free_slot_ids
from tests.ui.conftest import Desk, make_desk, settle

LEFT = Qt.MouseButton.LeftButton


@pytest.fixture
def admin_desk(clinic: Clinic) -> Iterator[Desk]:
    made = make_desk(clinic)
    user, _ = factories.staff(clinic, Role.ADMIN)
    made.backend.close()
    made.backend = LocalBackend(clinic)
    made.backend.login(user.username, factories.PASSWORD)
    made.user = user
    yield made
    made.backend.close()


@pytest.fixture
def tasks(qtbot: QtBot) -> Iterator[Tasks]:
    made = Tasks()
    yield made
    settle(qtbot, made)


def _page(qtbot: QtBot, cls: type, desk: Desk, tasks: Tasks):  # type: ignore[no-untyped-def]
    page = cls(desk.backend, tasks, desk.clinic.settings.tz, None)
    qtbot.addWidget(page)
    page.resize(1024, 640)
    page.show()
    page.start()
    settle(qtbot, tasks)
    return page


def _roster_names(desk: Desk) -> list[str]:
    return [d.full_name for d in doctor_admin.doctor_roster(desk.clinic, SYSTEM)]


def test_the_pages_are_registered_for_the_admin_area() -> None:
    keys = {key: cls for key, _, cls in PAGES}
    assert keys["doctors"] is DoctorsPage and keys["catalogue"] is CataloguePage
    assert keys["inbox"] is InboxPage


def test_add_a_doctor_with_bad_input_then_good(
    qtbot: QtBot, admin_desk: Desk, tasks: Tasks, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = _page(qtbot, DoctorsPage, admin_desk, tasks)
    assert page.model.rowCount() == 2
    qtbot.mouseClick(page.add_button, LEFT)
    editor = page.editor
    assert isinstance(editor, DoctorEditor)
    settle(qtbot, tasks)
    assert editor.specialisations.count() == 2
    before = _roster_names(admin_desk)

    # An empty name: refused next to the name.
    qtbot.mouseClick(editor.save, LEFT)
    settle(qtbot, tasks)
    assert editor.errors.message("first_name") == "First name is required."
    # A negative fee: refused next to the fee.
    qtbot.keyClicks(editor.first_name, "Nadia")
    qtbot.keyClicks(editor.last_name, "Rahman")
    qtbot.keyClicks(editor.fee, "-20")
    qtbot.mouseClick(editor.save, LEFT)
    settle(qtbot, tasks)
    assert editor.errors.message("fee") == "Fee cannot be negative."
    assert editor.errors.message("first_name") == ""
    # A file that is not a picture, chosen through the file chooser: refused at the picture.
    not_a_picture = tmp_path / "cv.png"
    not_a_picture.write_bytes(b"%PDF-1.4 this is a document")
    monkeypatch.setattr(fields, "choose_picture_path", lambda parent: str(not_a_picture))
    monkeypatch.setattr(
        "hms_desktop.ui.admin.doctor_editor.choose_picture_path", lambda parent: str(not_a_picture)
    )
    qtbot.mouseClick(editor.choose_picture, LEFT)
    settle(qtbot, tasks)
    assert editor.errors.message("picture") == "Upload a valid PNG, JPEG or WebP image."
    editor.fee.setText("45")
    qtbot.mouseClick(editor.save, LEFT)
    settle(qtbot, tasks)
    assert editor.isVisible() and editor.errors.message("picture")
    assert _roster_names(admin_desk) == before  # nothing saved

    picture = tmp_path / "face.png"
    picture.write_bytes(factories.png_bytes((40, 40)))
    editor.load_picture(str(picture))
    settle(qtbot, tasks)
    assert editor.errors.message("picture") == "" and editor.picture_data
    editor.specialisations.item(0).setCheckState(Qt.CheckState.Checked)
    qtbot.mouseClick(editor.save, LEFT)
    settle(qtbot, tasks)
    assert not editor.isVisible()
    saved = editor.result_record
    assert saved is not None and saved.full_name == "Nadia Rahman" and saved.fee == 45
    assert saved.picture_id is not None and len(saved.specialisation_ids) == 1
    assert "Nadia Rahman" in [d.full_name for d in page.model.records]
    assert page.selected() is not None and page.selected().id == saved.id
    # Bookable at once: the desk's lists have the new doctor.
    assert saved.id in [d.id for d in admin_desk.backend.doctors()]


def test_edit_with_a_log_in_and_deactivate_lists_bookings(
    qtbot: QtBot, admin_desk: Desk, tasks: Tasks, monkeypatch: pytest.MonkeyPatch
) -> None:
    clinic = admin_desk.clinic
    doctor = admin_desk.doctors[0]
    _, receptionist = factories.staff(clinic)
    slot = free_slot_ids(clinic, doctor.doctor_id, 1)[0]
    patient = admin_desk.patients[0]
    hold = scheduling.hold_slot(clinic, receptionist, slot, patient.id)
    booking = scheduling.confirm_booking(clinic, receptionist, slot, patient.id, token=hold.token)

    page = _page(qtbot, DoctorsPage, admin_desk, tasks)
    row = [d.id for d in page.model.records].index(doctor.doctor_id)
    page.table.selectRow(row)
    editor = page.edit_selected()
    assert editor is not None
    settle(qtbot, tasks)
    assert editor.first_name.text() == doctor.user.first_name
    editor.last_name.setText("Heartwell")
    editor.login_box.setChecked(True)
    editor.username.setText("dr.heartwell")
    editor.password.setText("heart-secret-1")
    qtbot.mouseClick(editor.save, LEFT)
    settle(qtbot, tasks)
    assert not editor.isVisible()
    record = doctor_admin.get_doctor_record(clinic, SYSTEM, doctor.doctor_id)
    assert record.last_name == "Heartwell" and record.username == "dr.heartwell"

    monkeypatch.setattr(QMessageBox, "information", lambda *args: None)
    page.table.selectRow([d.id for d in page.model.records].index(doctor.doctor_id))
    assert page.active_button.text() == "&Deactivate"
    qtbot.mouseClick(page.active_button, LEFT)
    settle(qtbot, tasks)
    assert page.selected() is not None and not page.selected().is_active
    assert page.active_button.text() == "&Reactivate"
    assert [a.id for a in page.rebook_model.records] == [booking.id]
    assert "1 booked appointment" in page.rebook_title.text()
    assert doctor.doctor_id not in [d.id for d in admin_desk.backend.doctors()]

    qtbot.mouseClick(page.active_button, LEFT)
    settle(qtbot, tasks)
    assert page.selected() is not None and page.selected().is_active
    assert page.rebook_model.rowCount() == 0


def test_catalogue_add_rename_delete_with_bad_input(
    qtbot: QtBot, admin_desk: Desk, tasks: Tasks, tmp_path: Path
) -> None:
    page = _page(qtbot, CataloguePage, admin_desk, tasks)
    assert {e.name for e in page.model.records} == {"Cardiology", "Dermatology"}
    cardiology = next(e for e in page.model.records if e.name == "Cardiology")
    assert cardiology.uses == 1

    # An empty name: refused next to the name, nothing added.
    qtbot.mouseClick(page.add_button, LEFT)
    settle(qtbot, tasks)
    assert page.errors.message("name") == "Name is required."
    assert page.model.rowCount() == 2

    qtbot.keyClicks(page.name, "Paediatrics")
    qtbot.keyClick(page.name, Qt.Key.Key_Return)
    settle(qtbot, tasks)
    assert "Paediatrics" in [e.name for e in page.model.records]
    assert page.selected() is not None and page.selected().name == "Paediatrics"
    page.name.setText("Paediatrics & Neonates")
    qtbot.mouseClick(page.rename_button, LEFT)
    settle(qtbot, tasks)
    assert "Paediatrics & Neonates" in [e.name for e in page.model.records]
    qtbot.mouseClick(page.delete_button, LEFT)
    settle(qtbot, tasks)
    assert {e.name for e in page.model.records} == {"Cardiology", "Dermatology"}

    # In use: refused with how many use it, kept.
    page.table.selectRow([e.name for e in page.model.records].index("Cardiology"))
    qtbot.mouseClick(page.delete_button, LEFT)
    settle(qtbot, tasks)
    assert page.errors.message("name").startswith("Specialisation is used by 1 doctor")
    assert "Cardiology" in [e.name for e in page.model.records]

    # Services keep a description and an image; a non-image is refused, nothing stored.
    page.kind.setCurrentIndex(page.kind.findData(CatalogueKind.SERVICES))
    settle(qtbot, tasks)
    assert page.description.isVisible()
    qtbot.keyClicks(page.name, "Blood tests")
    qtbot.keyClicks(page.description, "Mornings, fasting.")
    qtbot.mouseClick(page.add_button, LEFT)
    settle(qtbot, tasks)
    service = page.selected()
    assert service is not None and service.description == "Mornings, fasting."
    bad = tmp_path / "notes.webp"
    bad.write_bytes(b"RIFF....WEBPnot really")
    page.load_image(str(bad))
    settle(qtbot, tasks)
    assert page.errors.message("image") == "Upload a valid PNG, JPEG or WebP image."
    stored = catalogue.get_service(admin_desk.clinic, SYSTEM, service.id)
    assert stored.image_id is None
    good = tmp_path / "blood.png"
    good.write_bytes(factories.png_bytes())
    page.load_image(str(good))
    settle(qtbot, tasks)
    assert catalogue.get_service(admin_desk.clinic, SYSTEM, service.id).image_id is not None


def test_inbox_filters_and_marks_handled(qtbot: QtBot, admin_desk: Desk, tasks: Tasks) -> None:
    clinic = admin_desk.clinic
    for name in ("Ann Caller", "Ben Caller"):
        catalogue.save_contact(
            clinic, SYSTEM, name=name, phone=factories.phone(), message=f"{name} asks"
        )
    page = _page(qtbot, InboxPage, admin_desk, tasks)
    assert page.model.rowCount() == 2  # unhandled, newest first
    page.table.selectRow([m.name for m in page.model.records].index("Ann Caller"))
    assert "Ann Caller asks" in page.reading.toPlainText()
    qtbot.mouseClick(page.handled_button, LEFT)
    settle(qtbot, tasks)
    assert [m.name for m in page.model.records] == ["Ben Caller"]
    page.show_filter.setCurrentIndex(page.show_filter.findText("Handled"))
    settle(qtbot, tasks)
    assert [m.name for m in page.model.records] == ["Ann Caller"]
    assert page.handled_button.text() == "Mark &unhandled"
    page.show_filter.setCurrentIndex(page.show_filter.findText("All"))
    settle(qtbot, tasks)
    assert page.model.rowCount() == 2
