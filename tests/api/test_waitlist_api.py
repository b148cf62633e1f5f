"""A patient reaches their own waitlist entries through the desk API (the policy's
DESK_API_FOR_PATIENTS) and nothing else there: add, list, withdraw their own; never another
patient's entries, never the desk's offers; the rest of the desk API stays closed to them."""

from __future__ import annotations

from datetime import timedelta

from hms_desktop.domain.models import SYSTEM
from hms_desktop.domain.waitlist import WaitlistForm
from hms_desktop.services import accounts, waitlist
from tests import factories
from tests.api.conftest import LiveServer


def test_a_patient_keeps_their_own_waitlist_entries_through_the_desk_api(api: LiveServer) -> None:
    clinic = api.clinic
    doc = factories.doctor(clinic)
    me, other = (
        factories.patient(clinic, username=factories.unique("me"), password="pw-Secret-123"),
        factories.patient(clinic),
    )
    today = clinic.today()
    theirs = waitlist.add_entry(
        clinic,
        SYSTEM,
        WaitlistForm(other.id, today, today + timedelta(days=3), doctor_id=doc.doctor_id, note="x"),
    )
    token = api.token_for(accounts.get_user(clinic, SYSTEM, me.user_id))
    body = {
        "first_day": today.isoformat(),
        "last_day": (today + timedelta(days=7)).isoformat(),
        "doctor_id": doc.doctor_id,
        "preferred_times": "weekday mornings",
    }
    with api.client(token) as patient:
        added = patient.post("/desk/v1/waitlist", json=body)
        assert added.status_code == 201, added.text
        entry = added.json()
        assert (entry["patient_id"], entry["priority"], entry["status"]) == (me.id, 1, "active")

        listed = patient.get("/desk/v1/waitlist", params={"status": "all"}).json()
        assert [e["id"] for e in listed] == [entry["id"]]
        assert other.full_name not in str(listed)

        for_someone_else = patient.post("/desk/v1/waitlist", json={**body, "patient_id": other.id})
        assert for_someone_else.status_code == 403
        # Another patient's entry is not shown to exist (test_waitlist_attacks.py).
        assert patient.post(f"/desk/v1/waitlist/{theirs.id}/withdraw").status_code == 404
        assert patient.get(f"/desk/v1/waitlist/offers/{1}").status_code == 403
        take = patient.post(f"/desk/v1/waitlist/{entry['id']}/take", json={"slot_id": 1})
        assert take.status_code == 403
        assert patient.get("/desk/v1/patients", params={"q": "a"}).status_code == 403

        withdrawn = patient.post(f"/desk/v1/waitlist/{entry['id']}/withdraw")
        assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"
    with api.client() as anonymous:
        assert anonymous.get("/desk/v1/waitlist").status_code == 401
        assert anonymous.post("/desk/v1/waitlist", json=body).status_code == 401
