"""The waitlist's guards under attack: a patient's requests at once cannot together pass
their cap of entries, and a fill books only a slot the entry waits for (not one held some
other way for the same patient)."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from hms_desktop.domain.errors import DomainError
from hms_desktop.domain.models import Actor
from hms_desktop.domain.waitlist import WaitlistForm, WaitlistNoMatch, WaitlistStatus
from hms_desktop.services import scheduling, waitlist
from hms_desktop.services.clinic import Clinic
from hms_desktop.store.tables import Appointment, WaitlistEntryRow
from tests import factories
from tests.services.support import free_slot_ids


def _form(clinic: Clinic, patient_id: int | None, doctor_id: int) -> WaitlistForm:
    today = clinic.today()
    return WaitlistForm(patient_id, today, today + timedelta(days=14), doctor_id=doctor_id)


def test_a_patients_requests_at_once_stay_within_their_cap(
    clinic: Clinic, monkeypatch: pytest.MonkeyPatch
) -> None:
    heart = factories.doctor(clinic)
    me = factories.patient(clinic)
    patient: Actor = factories.patient_actor(clinic, me)
    counted = waitlist._check_own_quota

    def slow_count(*args: object) -> None:
        counted(*args)  # type: ignore[arg-type]
        time.sleep(0.3)  # between the count and the insert: where two requests overlap

    monkeypatch.setattr(waitlist, "_check_own_quota", slow_count)
    attempts = waitlist.MAX_OWN_ENTRIES + 3
    barrier = threading.Barrier(attempts)
    refused: list[DomainError] = []

    def add() -> None:
        barrier.wait(timeout=60)
        try:
            waitlist.add_entry(clinic, patient, _form(clinic, None, heart.doctor_id))
        except DomainError as error:
            refused.append(error)

    threads = [threading.Thread(target=add) for _ in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    with clinic.db.read() as session:
        stored = session.scalar(select(func.count()).where(WaitlistEntryRow.patient_id == me.id))
    assert stored == waitlist.MAX_OWN_ENTRIES
    assert len(refused) == attempts - waitlist.MAX_OWN_ENTRIES


def test_a_fill_books_only_a_slot_the_entry_waits_for(clinic: Clinic) -> None:
    _, desk = factories.staff(clinic)
    heart, skin = factories.doctor(clinic), factories.doctor(clinic)
    me = factories.patient(clinic)
    entry = waitlist.add_entry(clinic, desk, _form(clinic, me.id, heart.doctor_id))
    (other_doctors,) = free_slot_ids(clinic, skin.doctor_id, 1, days_ahead=2)
    hold = scheduling.hold_slot(clinic, desk, other_doctors, me.id)  # an ordinary hold

    with pytest.raises(WaitlistNoMatch):
        waitlist.fill(clinic, desk, entry.id, other_doctors, hold.token)
    with clinic.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Appointment)) == 0
    (still,) = waitlist.list_entries(clinic, desk, None, patient_id=me.id)
    assert still.status is WaitlistStatus.ACTIVE
