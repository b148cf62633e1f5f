"""A patient's name is theirs to choose (self-registration): written as markup, it shows as
typed in the waitlist's confirmation and the patient card, not as formatting or links a desk
might trust."""

from __future__ import annotations

import html
from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from hms_desktop.ui.main_window import MainWindow
from tests import factories
from tests.ui.conftest import Desk
from tests.ui.test_waitlist import _wait_for

MARKUP = '<a href="https://evil.example">Withdraw everyone</a>'


def test_the_withdraw_question_shows_a_name_as_typed(
    qtbot: QtBot, desk: Desk, window_for: Callable[[Desk], MainWindow]
) -> None:
    patient = factories.patient(desk.clinic, full_name=f"{MARKUP} Eve")
    _wait_for(desk, patient.id)
    window = window_for(desk)
    window.show_view("waitlist")
    page = window.waitlist
    qtbot.waitUntil(lambda: page.model.rowCount() == 1, timeout=10_000)
    page.table.setFocus()
    page.table.selectRow(0)
    qtbot.keyClick(page.table, Qt.Key.Key_Delete)
    box = page.confirm_box
    assert box is not None and box.isVisible()
    assert box.textFormat() is Qt.TextFormat.PlainText
    shown = [label for label in box.findChildren(QLabel) if MARKUP in label.text()]
    assert shown and all(label.textFormat() is Qt.TextFormat.PlainText for label in shown)
    box.reject()


def test_the_patient_card_shows_a_name_as_typed(
    qtbot: QtBot, desk: Desk, window_for: Callable[[Desk], MainWindow]
) -> None:
    factories.patient(desk.clinic, full_name=f"{MARKUP} Eve")
    window = window_for(desk)
    window.show_view("patients")
    patients = window.patients
    qtbot.keyClicks(patients.search.box, "Eve")
    qtbot.waitUntil(lambda: patients.search.model.rowCount() == 1, timeout=10_000)
    qtbot.keyClick(patients.search.box, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "Eve" in patients.details.text(), timeout=10_000)
    # Rich text (the card's table), the name in it escaped: no link, the markup shown.
    assert html.escape(MARKUP) in patients.details.text()
    assert "<a " not in patients.details.text()
    assert patients.notice.textFormat() is Qt.TextFormat.PlainText
