"""`PUT /desk/v1/doctors/{id}/working-hours` over real HTTP: what it answers, and the weeks it
refuses (a 400 naming the window, nothing saved), never a 500."""

from __future__ import annotations

from datetime import timedelta

from hms_desktop.domain.enums import Role
from hms_desktop.domain.models import SYSTEM
from hms_desktop.services import doctors, scheduling
from tests.api.conftest import LiveServer


def test_the_hours_route_answers_and_refuses(api: LiveServer) -> None:
    admin = api.staff(Role.ADMIN)
    doc = api.doctor()
    patient, _ = api.patient_user()
    now = api.clinic.now()
    (slot,) = doctors.free_slots(
        api.clinic, SYSTEM, [doc.doctor_id], now, now + timedelta(days=2), limit=1
    )
    hold = scheduling.hold_slot(api.clinic, SYSTEM, slot.id, patient.id)
    booked = scheduling.confirm_booking(api.clinic, SYSTEM, slot.id, patient.id, token=hold.token)
    before = doctors.doctor_details(api.clinic, SYSTEM, doc.doctor_id).working_hours
    path = f"/desk/v1/doctors/{doc.doctor_id}/working-hours"
    window = {"weekday": 0, "start": "09:00", "end": "12:00", "slot_minutes": 30}
    with api.client(api.token_for(admin)) as client:
        for body, field in (
            ([window, {**window, "start": "11:00", "end": "13:00"}], "hours.1.start"),
            ([{**window, "end": "08:00"}], "hours.0.end"),
            ([{**window, "slot_minutes": 0}], "hours.0.slot_minutes"),
        ):
            refused = client.put(path, json=body)
            assert refused.status_code == 400, refused.text
            assert refused.json()["field"] == field
        assert client.put(path, json=[window] * 101).status_code == 400
        assert doctors.doctor_details(api.clinic, SYSTEM, doc.doctor_id).working_hours == before

        saved = client.put(path, json=[window])
        assert saved.status_code == 200, saved.text
        answer = saved.json()
        assert answer["slots"] > 0 and answer["kept_held"] == 0
        assert [a["id"] for a in answer["outside"]] == [booked.id]
