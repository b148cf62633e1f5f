"""A self-registered patient attacking the waitlist over the desk API: they cannot mark
themselves urgent (jumping everyone who waits), and another patient's entry answers exactly
as a missing one (no telling which ids exist); nothing is stored or changed by either."""

from __future__ import annotations

from datetime import timedelta

from hms_desktop.domain.models import SYSTEM
from hms_desktop.domain.waitlist import WaitlistForm, WaitlistStatus
from hms_desktop.services import accounts, waitlist
from tests import factories
from tests.api.conftest import LiveServer


def test_a_patient_cannot_raise_their_priority_nor_probe_other_entries(api: LiveServer) -> None:
    clinic = api.clinic
    doc = factories.doctor(clinic)
    me = factories.patient(clinic, username=factories.unique("me"), password="pw-Secret-123")
    other = factories.patient(clinic)
    today = clinic.today()
    theirs = waitlist.add_entry(
        clinic, SYSTEM, WaitlistForm(other.id, today, today, doctor_id=doc.doctor_id)
    )
    body = {
        "first_day": today.isoformat(),
        "last_day": (today + timedelta(days=7)).isoformat(),
        "doctor_id": doc.doctor_id,
    }
    token = api.token_for(accounts.get_user(clinic, SYSTEM, me.user_id))
    with api.client(token) as patient:
        for priority in (0, 2, 3):
            urgent = patient.post("/desk/v1/waitlist", json={**body, "priority": priority})
            assert urgent.status_code == 400, urgent.text
            assert urgent.json()["field"] == "priority"
        assert waitlist.list_entries(clinic, SYSTEM, None, patient_id=me.id) == []
        normal = patient.post("/desk/v1/waitlist", json={**body, "priority": 1})
        assert normal.status_code == 201 and normal.json()["priority"] == 1

        someone_elses = patient.post(f"/desk/v1/waitlist/{theirs.id}/withdraw")
        missing = patient.post(f"/desk/v1/waitlist/{theirs.id + 1000}/withdraw")
        assert someone_elses.status_code == missing.status_code == 404
        assert someone_elses.json() == missing.json()
    (still,) = waitlist.list_entries(clinic, SYSTEM, None, patient_id=other.id)
    assert still.status is WaitlistStatus.ACTIVE


def test_a_patient_does_not_see_the_staff_log_in_that_added_their_entry(
    api: LiveServer,
) -> None:
    clinic = api.clinic
    doc = factories.doctor(clinic)
    _, desk = factories.staff(clinic)
    me = factories.patient(clinic, username=factories.unique("me"), password="pw-Secret-123")
    today = clinic.today()
    waitlist.add_entry(clinic, desk, WaitlistForm(me.id, today, today, doctor_id=doc.doctor_id))
    token = api.token_for(accounts.get_user(clinic, SYSTEM, me.user_id))
    with api.client(token) as patient:
        listed = patient.get("/desk/v1/waitlist")
        assert listed.status_code == 200
        (entry,) = listed.json()
        assert entry["created_by"] == "clinic"
        assert desk.username not in listed.text
        withdrawn = patient.post(f"/desk/v1/waitlist/{entry['id']}/withdraw")
        assert withdrawn.status_code == 200 and desk.username not in withdrawn.text
    # The desk still reads who wrote it.
    (seen,) = waitlist.list_entries(clinic, desk, None, patient_id=me.id)
    assert seen.created_by == desk.username
