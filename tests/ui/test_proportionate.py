"""A desk asks the server only for what it needs: one search per typing pause (an answer for
text typed over is never shown), and a change on another desk reloads only the calendar
window, day list or queue it touches."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from pytestqt.qtbot import QtBot

from hms_desktop.domain.models import DoctorSummary
from hms_desktop.services.local import LocalBackend
from hms_desktop.ui.main_window import MainWindow
from hms_desktop.ui.patients import TYPING_PAUSE_MS
from tests import factories
from tests.ui.conftest import Desk, free_slots, settle, tomorrow


def count_calls(backend: Any, *names: str) -> Counter[str]:
    """Count the desk's calls of these Backend methods (the views look them up per call)."""
    calls: Counter[str] = Counter()
    for name in names:
        original = getattr(backend, name)

        def counted(*args: Any, _name: str = name, _call: Any = original) -> Any:
            calls[_name] += 1
            return _call(*args)

        setattr(backend, name, counted)
    return calls


def test_typing_eight_characters_fast_sends_one_search(
    qtbot: QtBot, desk: Desk, window_for: Callable[[Desk], MainWindow]
) -> None:
    window = window_for(desk)
    search = window.patients.search
    texts: list[str] = []
    original = desk.backend.search_patients

    def search_patients(text: str) -> Any:
        texts.append(text)
        return original(text)

    desk.backend.search_patients = search_patients  # type: ignore[method-assign]
    window.find_patient()
    qtbot.keyClicks(search.box, "alice wa", delay=15)  # 8 keys well inside one pause
    qtbot.waitUntil(
        lambda: [r.full_name for r in search.model.records] == ["Alice Walker"], timeout=10_000
    )
    settle(qtbot, window.tasks)
    qtbot.wait(2 * TYPING_PAUSE_MS)
    assert texts == ["alice wa"]


def test_an_answer_for_text_typed_over_is_never_shown(
    qtbot: QtBot, desk: Desk, window_for: Callable[[Desk], MainWindow]
) -> None:
    window = window_for(desk)
    search = window.patients.search
    texts: list[str] = []
    first_may_answer = threading.Event()
    original = desk.backend.search_patients

    def search_patients(text: str) -> Any:
        texts.append(text)
        if len(texts) == 1:
            first_may_answer.wait(10)  # a slow answer, overtaken by more typing
        return original(text)

    desk.backend.search_patients = search_patients  # type: ignore[method-assign]
    shown: list[str] = []
    search.results_shown.connect(lambda _n: shown.append(search.box.text()))
    qtbot.keyClicks(search.box, "Bob")
    qtbot.waitUntil(lambda: texts == ["Bob"], timeout=5_000)  # the pause came: asked
    search.box.clear()
    qtbot.keyClicks(search.box, "Alice", delay=15)
    first_may_answer.set()
    qtbot.waitUntil(
        lambda: [r.full_name for r in search.model.records] == ["Alice Walker"], timeout=10_000
    )
    settle(qtbot, window.tasks)
    assert texts == ["Bob", "Alice"]  # nothing for "", "A", "Al", …
    assert "Bob Marley" not in [r.full_name for r in search.model.records]
    assert shown[-1] == "Alice" and "Bob" not in shown


def _rest(desk: Desk) -> tuple[Any, ...]:
    return (desk.user, desk.doctors, desk.speciality_ids, desk.patients)


def _week_of(window: MainWindow, qtbot: QtBot, doctor: DoctorSummary | int, day: Any) -> None:
    calendar = window.calendar
    calendar.doctor.setCurrentIndex(calendar.doctor.findData(doctor))
    calendar.set_week(True)
    calendar.anchor = day
    calendar.reload()
    qtbot.wait(400)  # a window shown from the cache is confirmed by a fetch soon after
    settle(qtbot, window.tasks)


def test_a_change_reloads_only_the_doctor_and_days_it_touches(
    qtbot: QtBot, desk: Desk, window_for: Callable[[Desk], MainWindow]
) -> None:
    """The desk shows doctor X's week and X's day list for today; another desk works."""
    x, y = desk.doctors[0].doctor_id, desk.doctors[1].doctor_id
    other_user, _ = factories.staff(desk.clinic, first_name="Other", last_name="Desk")
    other = LocalBackend(desk.clinic)
    other.login(other_user.username, factories.PASSWORD)
    # Found through the other desk's backend: this desk's calls are the ones counted.
    free = {
        (doctor, offset): free_slots(Desk(desk.clinic, other, *_rest(desk)), doctor, when)
        for doctor in (x, y)
        for offset, when in (
            (0, tomorrow(desk.clinic)),
            (21, tomorrow(desk.clinic) + timedelta(days=21)),
        )
    }
    window = window_for(desk)
    day = tomorrow(desk.clinic)
    _week_of(window, qtbot, x, day)
    window.today.doctor.setCurrentIndex(window.today.doctor.findData(x))
    settle(qtbot, window.tasks)
    calls = count_calls(desk.backend, "calendar", "doctor_day", "pending_requests")
    shown_windows: list[tuple[int, ...]] = []
    fetch = desk.backend.calendar

    def calendar(doctor_ids: list[int], start: datetime, end: datetime) -> Any:
        shown_windows.append(tuple(doctor_ids))
        return fetch(doctor_ids, start, end)

    desk.backend.calendar = calendar  # type: ignore[method-assign]
    try:
        patient = desk.patients[0].id

        # Doctor Y's hold and booking: nothing of X's is shown again.
        y_slot = free[(y, 0)][0]
        hold = other.hold_slot(y_slot, patient)
        other.confirm_booking(y_slot, patient, hold.token)
        qtbot.wait(400)  # longer than the calendar's coalescing of a burst
        settle(qtbot, window.tasks)
        assert calls == Counter(), "a change of another doctor's reloaded this desk's views"

        # X's slot three weeks ahead (a window not shown nor cached): nothing either.
        far = free[(x, 21)][0]
        other.release_hold(far, other.hold_slot(far, patient).token)
        qtbot.wait(400)
        settle(qtbot, window.tasks)
        assert calls == Counter()

        # X's slot in the shown week: that window once, the day list not (a hold).
        x_slot = free[(x, 0)][1]
        hold = other.hold_slot(x_slot, patient)
        qtbot.wait(400)
        settle(qtbot, window.tasks)
        assert calls == Counter({"calendar": 1}) and shown_windows == [(x,)]

        # Its booking (tomorrow): the week again; today's list of X does not show it.
        other.confirm_booking(x_slot, patient, hold.token)
        qtbot.wait(400)
        settle(qtbot, window.tasks)
        assert calls == Counter({"calendar": 2})
        assert window.calendar.model.index_of(x_slot).isValid()
    finally:
        other.close()
