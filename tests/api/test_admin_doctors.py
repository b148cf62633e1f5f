"""A doctor the admin deactivates through the desk API is gone from both APIs' doctor
listings and speciality search at once, and a hold on one of their slots is refused, over
real HTTP; reactivated, they are bookable again."""

from __future__ import annotations

import io
from datetime import timedelta

from PIL import Image

from hms_desktop.domain.enums import Role
from hms_desktop.domain.models import SYSTEM
from hms_desktop.services import doctors
from tests import factories
from tests.api.conftest import LiveServer


def _window(api: LiveServer) -> dict[str, str]:
    now = api.clinic.now()
    return {"startTime": now.isoformat(), "endTime": (now + timedelta(days=2)).isoformat()}


def test_a_deactivated_doctor_is_not_listed_nor_bookable(api: LiveServer) -> None:
    clinic = api.clinic
    spec = factories.speciality(clinic, "Orthopaedics")
    leaving = api.doctor(specialisation_ids=[spec], first_name="Leaving")
    staying = api.doctor(specialisation_ids=[spec], first_name="Staying")
    now = clinic.now()
    slot = doctors.free_slots(
        clinic, SYSTEM, [leaving.doctor_id], now, now + timedelta(days=2), limit=1
    )[0].id
    _, user = api.patient_user(full_name="Pat Online")
    admin = api.token_for(api.staff(Role.ADMIN))
    desk = api.token_for(api.staff(Role.RECEPTIONIST))

    def listed() -> dict[str, set[int]]:
        with api.client() as public:
            booking = {row["doctor_id"] for row in public.get("/doctors").json()}
            hospital = {
                row["id"]
                for row in public.get("/doctors/", params={"limit": 100}).json()["results"]
            }
            found = public.get("/doctors/specialities/Orthopaedics", params=_window(api)).json()
            search = {row["doctor_id"] for row in found}
        with api.client(desk) as staff:
            desk_list = {row["id"] for row in staff.get("/desk/v1/doctors").json()}
        return {"booking": booking, "hospital": hospital, "search": search, "desk": desk_list}

    assert all(leaving.doctor_id in ids for ids in listed().values())

    with api.client(admin) as client:
        answer = client.post(f"/desk/v1/admin/doctors/{leaving.doctor_id}/deactivate")
    assert answer.status_code == 200, answer.text
    assert answer.json()["doctor"]["is_active"] is False

    for where, ids in listed().items():
        assert leaving.doctor_id not in ids, where
        assert staying.doctor_id in ids, where
    with api.client() as public:
        assert public.get(f"/doctors/{leaving.doctor_id}").status_code == 404
    with api.client(cookie=api.session_for(user)) as patient:
        refused = patient.post("/appointments/me", json={"slot": slot})
        assert (refused.status_code, refused.json()) == (
            400,  # the booking document's answer to a conflict
            {"error": "This doctor is not taking appointments."},
        )
    with api.client(desk) as staff:
        held = staff.post(
            "/desk/v1/holds", json={"slot_id": slot, "patient_id": factories.patient(clinic).id}
        )
        assert held.status_code == 409 and held.json()["type"] == "DoctorNotBookable"
        # Still the admin's: on the roster, marked inactive.
        assert staff.get("/desk/v1/admin/doctors").status_code == 403
    with api.client(admin) as client:
        roster = {row["id"]: row for row in client.get("/desk/v1/admin/doctors").json()}
        assert roster[leaving.doctor_id]["is_active"] is False
        assert client.post(f"/desk/v1/admin/doctors/{leaving.doctor_id}/reactivate").is_success

    assert all(leaving.doctor_id in ids for ids in listed().values())
    with api.client(cookie=api.session_for(user)) as patient:
        assert patient.post("/appointments/me", json={"slot": slot}).status_code == 201


def test_desk_api_refuses_bad_pictures_and_deleting_what_is_in_use(api: LiveServer) -> None:
    admin = api.token_for(api.staff(Role.ADMIN))
    used = factories.speciality(api.clinic, "In Use")
    doctor = api.doctor(specialisation_ids=[used])
    with api.client(admin) as client:
        bad = client.put(
            f"/desk/v1/admin/doctors/{doctor.doctor_id}/picture",
            files={"picture": ("cv.pdf", b"%PDF-1.4 not a picture")},
        )
        assert bad.status_code == 400, bad.text
        assert bad.json()["error"] == "Upload a valid PNG, JPEG or WebP image."
        good = client.put(
            f"/desk/v1/admin/doctors/{doctor.doctor_id}/picture",
            files={"picture": ("me.png", factories.png_bytes())},
        )
        assert good.status_code == 200 and good.json()["picture_id"] is not None

        refused = client.delete(f"/desk/v1/catalogue/specialisations/{used}")
        assert refused.status_code == 409
        assert refused.json()["error"].startswith("Specialisation is used by 1 doctor")
        assert used in [
            row["id"] for row in client.get("/desk/v1/catalogue/specialisations").json()
        ]
        negative = client.post("/desk/v1/admin/doctors", json={"first_name": "Neg", "fee": -5})
        assert (negative.status_code, negative.json()["field"]) == (400, "fee")
        unknown = client.get("/desk/v1/catalogue/planets")
        assert unknown.status_code == 400


def test_a_decompression_bomb_as_a_doctor_picture_is_refused(api: LiveServer) -> None:
    admin = api.token_for(api.staff(Role.ADMIN))
    doctor = api.doctor()
    buffer = io.BytesIO()
    Image.new("1", (20_000, 20_000)).save(buffer, format="PNG")  # tiny file, 400 MB decoded
    with api.client(admin) as client:
        answer = client.put(
            f"/desk/v1/admin/doctors/{doctor.doctor_id}/picture",
            files={"picture": ("bomb.png", buffer.getvalue(), "image/png")},
        )
    assert answer.status_code == 400 and "megapixels" in answer.text, answer.text
