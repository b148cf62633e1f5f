"""The hospital API's records over real HTTP: permissions, filters, search, uploads."""

from __future__ import annotations

from datetime import timedelta

from hms_desktop.domain.enums import AppointmentStatus, Role
from hms_desktop.domain.models import SYSTEM
from hms_desktop.services import accounts, catalogue, doctors, scheduling
from tests.api.conftest import LiveServer
from tests.factories import png_bytes


def test_patients_permissions_search_and_filters(api: LiveServer) -> None:
    mine, me = api.patient_user(phone="+44 20 7946 0001")
    other, _ = api.patient_user(phone="020 7946 0002")
    admin_user = api.staff(Role.ADMIN)
    doc = api.doctor()
    with (
        api.client(api.token_for(me)) as patient,
        api.client(api.token_for(admin_user)) as admin,
        api.client(api.token_for(doc.user)) as doctor,
    ):
        own = patient.get("/patients/").json()
        assert own["count"] == 1
        assert own["results"] == [
            {"id": mine.id, "user": me.username, "profile": None, "phone": "+442079460001"}
        ]
        assert patient.get(f"/patients/{other.id}/").status_code == 404
        assert patient.patch(f"/patients/{other.id}/", data={"phone": "1234567"}).status_code == 404
        assert patient.delete(f"/patients/{other.id}/").status_code == 404

        assert admin.get("/patients/").json()["count"] == 2
        # A doctor sees only the patients on their own schedule: none yet.
        assert doctor.get("/patients/").json()["count"] == 0
        by_phone = admin.get("/patients/", params={"phone": "02079460002"}).json()
        assert [row["id"] for row in by_phone["results"]] == [other.id]
        # Any spelling of the number finds it (stored in E.164: "+442079460002").
        by_phone = admin.get("/patients/", params={"phone": "0044 20 7946 0002"}).json()
        assert [row["id"] for row in by_phone["results"]] == [other.id]
        by_search = admin.get("/patients/", params={"search": "020 7946 0002"}).json()
        assert [row["id"] for row in by_search["results"]] == [other.id]
        by_search = admin.get("/patients/", params={"search": "7946 0001"}).json()
        assert [row["id"] for row in by_search["results"]] == [mine.id]
        by_id = admin.get("/patients/", params={"search": str(other.id)}).json()
        assert other.id in [row["id"] for row in by_id["results"]]

        updated = patient.patch(
            f"/patients/{mine.id}/",
            data={"phone": "+44 20 7946 0009"},
            files={"profile": ("p.png", png_bytes(), "image/png")},
        )
        assert updated.status_code == 200, updated.text
        assert updated.json()["phone"] == "+442079460009"
        assert updated.json()["profile"].startswith(api.url + "/media/")
        taken = patient.put(f"/patients/{mine.id}/", data={"phone": "020 7946 0002"})
        assert taken.status_code == 400
        bad_upload = patient.put(
            f"/patients/{mine.id}/", files={"profile": ("x.png", b"GIF89a-nope", "image/png")}
        )
        assert bad_upload.status_code == 400

        # One patient record per user: the patient has theirs; the doctor may make one.
        second = patient.post("/patients/", data={"phone": "5550001"})
        assert second.status_code == 400
        assert second.json()["user"] == ["patient with this user already exists."]
        made = doctor.post("/patients/", data={"phone": "5550001"})
        assert made.status_code == 201 and made.json()["user"] == doc.user.username

        assert admin.delete(f"/patients/{other.id}/").status_code == 204
        assert admin.get(f"/patients/{other.id}/").status_code == 404
    with api.client() as anonymous:
        assert anonymous.get("/patients/").status_code == 401


def test_doctors_catalogue_and_filters(api: LiveServer) -> None:
    admin_user = api.staff(Role.ADMIN)
    _, patient_user = api.patient_user()
    with (
        api.client(api.token_for(admin_user)) as admin,
        api.client(api.token_for(patient_user)) as patient,
        api.client() as anonymous,
    ):
        cardio = admin.post("/specialisations/", json={"name": "Cardiology"})
        assert cardio.status_code == 201 and cardio.json()["slug"] == "cardiology"
        derma = admin.post("/specialisations/", json={"name": "Dermatology", "slug": "skin"}).json()
        taken = admin.post("/specialisations/", json={"name": "Cardiology"})
        assert taken.status_code == 400
        assert taken.json()["name"] == ["specialisation with this name already exists."]
        kept = admin.post("/specialisations/", json={"name": "Sleep", "slug": "sleep_medicine"})
        assert kept.json()["slug"] == "sleep_medicine"
        accented = admin.post("/specialisations/", json={"name": "Médecine générale"})
        assert accented.json()["slug"] == "medecine-generale"
        senior = admin.post("/designations/", json={"name": "Senior"}).json()
        morning = admin.post("/available-time/", json={"time": "Mon 09:00-12:00"}).json()
        evening = admin.post("/available-time/", json={"time": "Tue 17:00-19:00"}).json()
        # Catalogue writes need staff; reads are open.
        for path, body in (
            ("/specialisations/", {"name": "Oncology"}),
            ("/designations/", {"name": "Junior"}),
            ("/available-time/", {"time": "Sun"}),
        ):
            assert patient.post(path, json=body).status_code == 403
            assert anonymous.post(path, json=body).status_code == 401
        assert [row["name"] for row in anonymous.get("/specialisations/").json()] == [
            "Cardiology",
            "Dermatology",
            "Médecine générale",
            "Sleep",
        ]
        assert anonymous.get("/designations/").json() == [senior]
        assert anonymous.get("/available-time/", params={"id": evening["id"]}).json() == [evening]
        assert len(anonymous.get("/available-time/").json()) == 2

        first = api.doctor(specialisation_ids=[cardio.json()["id"]], fee=50)
        second = api.doctor(specialisation_ids=[derma["id"]], fee=80)
        changed = admin.patch(
            f"/doctors/{second.doctor_id}/",
            data={
                "designation": [str(senior["id"])],
                "available_time": [str(morning["id"]), str(evening["id"])],
                "meet_link": "https://meet.example/x",
            },
            files={"profile": ("d.png", png_bytes(), "image/png")},
        )
        assert changed.status_code == 200, changed.text
        body = changed.json()
        assert body["designation"] == ["Senior"] and body["specialisation"] == ["Dermatology"]
        assert body["available_time"] == sorted([morning["id"], evening["id"]])
        assert body["fee"] == 80 and body["meet_link"] == "https://meet.example/x"
        assert body["profile"].startswith(api.url + "/media/")

        def ids(params: dict[str, object]) -> list[int]:
            page = anonymous.get("/doctors/", params=params).json()
            return [row["id"] for row in page["results"]]

        assert ids({}) == [first.doctor_id, second.doctor_id]
        assert ids({"specialisation": cardio.json()["id"]}) == [first.doctor_id]
        assert ids({"designation": senior["id"]}) == [second.doctor_id]
        assert ids({"fee": 50}) == [first.doctor_id]
        assert ids({"available_time": evening["id"]}) == [second.doctor_id]
        assert ids({"search": second.user.last_name}) == [second.doctor_id]
        assert anonymous.get(f"/doctors/{first.doctor_id}/").json()["user"] == first.user.username
        assert anonymous.get("/doctors/999999/").status_code == 404

        # Only the doctor themself or staff change a doctor; only admins delete one.
        assert patient.patch(f"/doctors/{first.doctor_id}/", data={"fee": "1"}).status_code == 403
        with api.client(api.token_for(first.user)) as doctor:
            own = doctor.put(f"/doctors/{first.doctor_id}/", data={"fee": "60"})
            assert own.json()["fee"] == 60
        assert admin.patch(f"/doctors/{first.doctor_id}/", data={"fee": "-5"}).status_code == 400
        bad_link = admin.patch(f"/doctors/{first.doctor_id}/", data={"designation": ["999"]})
        assert bad_link.status_code == 400
        # A doctor's account already has its record; patients cannot make one.
        with api.client(api.token_for(first.user)) as doctor:
            again = doctor.post("/doctors/", data={"fee": "10"})
            assert again.status_code == 400
            assert again.json()["user"] == ["doctor with this user already exists."]
        assert patient.post("/doctors/", data={"fee": "10"}).status_code == 403
        receptionist = api.staff(Role.RECEPTIONIST)
        with api.client(api.token_for(receptionist)) as desk:
            assert desk.delete(f"/doctors/{first.doctor_id}/").status_code == 403
        assert admin.delete(f"/doctors/{first.doctor_id}/").status_code == 204
        assert ids({}) == [second.doctor_id]


def test_reviews_as_stars_with_filters(api: LiveServer) -> None:
    doc = api.doctor(first_name="Greg", last_name="House")
    other_doc = api.doctor(first_name="John", last_name="Watson")
    record, user = api.patient_user(full_name="Ann Reviewer")
    _, stranger = api.patient_user()
    desk_user = api.staff(Role.RECEPTIONIST)
    with (
        api.client(api.token_for(user)) as patient,
        api.client(api.token_for(stranger)) as other,
        api.client() as anonymous,
    ):
        written = patient.post(
            "/reviews/", json={"doctor": doc.doctor_id, "body": "Great", "rating": "⭐⭐⭐⭐"}
        )
        assert written.status_code == 201, written.text
        review = written.json()
        # Reviews are public: the reviewer shows as first name and initial.
        assert review["rating"] == "⭐⭐⭐⭐" and review["reviewer"] == "Ann R."
        assert review["doctor_name"] == "Greg House" and review["body"] == "Great"
        patient.post("/reviews/", json={"doctor": other_doc.doctor_id, "body": "Ok", "rating": 2})
        assert (
            patient.post(
                "/reviews/", json={"doctor": doc.doctor_id, "rating": "⭐⭐⭐⭐⭐⭐"}
            ).status_code
            == 400
        )
        assert patient.post("/reviews/", json={"doctor": 999999, "rating": 3}).status_code == 404

        def ratings(params: dict[str, object]) -> list[str]:
            page = anonymous.get("/reviews/", params=params).json()
            return [row["rating"] for row in page["results"]]

        assert ratings({}) == ["⭐⭐⭐⭐", "⭐⭐"]
        assert ratings({"doctor": other_doc.doctor_id}) == ["⭐⭐"]
        assert ratings({"reviwer": record.id}) == ["⭐⭐⭐⭐", "⭐⭐"]
        assert ratings({"rating": "⭐⭐"}) == ["⭐⭐"]
        assert ratings({"rating": 4}) == ["⭐⭐⭐⭐"]
        assert ratings({"search": "watson"}) == ["⭐⭐"]
        assert ratings({"search": "%"}) == [] and ratings({"search": "reviewer"}) == []
        assert anonymous.get(f"/reviews/{review['id']}/").json() == review

        assert other.patch(f"/reviews/{review['id']}/", json={"body": "x"}).status_code == 403
        assert other.delete(f"/reviews/{review['id']}/").status_code == 403
        patched = patient.patch(f"/reviews/{review['id']}/", json={"rating": "⭐"})
        assert patched.json()["rating"] == "⭐" and patched.json()["body"] == "Great"
        replaced = patient.put(
            f"/reviews/{review['id']}/",
            json={"doctor": other_doc.doctor_id, "body": "Moved", "rating": 5},
        )
        assert replaced.json()["doctor_name"] == "John Watson"
        assert patient.put(f"/reviews/{review['id']}/", json={"body": "x"}).status_code == 400
        with api.client(api.token_for(desk_user)) as desk:
            assert (
                desk.post("/reviews/", json={"doctor": doc.doctor_id, "rating": 3}).status_code
                == 403
            )
        assert patient.delete(f"/reviews/{review['id']}/").status_code == 204
        assert anonymous.get(f"/reviews/{review['id']}/").status_code == 404
        assert (
            anonymous.post("/reviews/", json={"doctor": doc.doctor_id, "rating": 3}).status_code
            == 401
        )


def test_appointments_requests_privacy_and_status_words(api: LiveServer) -> None:
    clinic = api.clinic
    doc = api.doctor()
    other_doc = api.doctor()
    slot_label = catalogue.save_available_time(clinic, SYSTEM, "Mon 09:00-12:00")
    mine, me = api.patient_user()
    theirs, them = api.patient_user()
    desk_user = api.staff(Role.RECEPTIONIST)
    desk = accounts.actor_for(desk_user)
    with api.client(api.token_for(me)) as patient, api.client(api.token_for(them)) as other:
        made = patient.post(
            "/appointments/",
            json={
                "doctor": doc.doctor_id,
                "appointment_type": "Online",
                "symptoms": "cough",
                "time": slot_label.id,
            },
        )
        assert made.status_code == 201, made.text
        request = made.json()
        assert request == {
            "id": request["id"],
            "patient": mine.id,
            "doctor": doc.doctor_id,
            "appointment_type": "Online",
            "appointment_status": "Pendding",
            "symptoms": "cough",
            "time": slot_label.id,
            "cancel": False,
        }
        # It is a request in the desk's queue.
        queue = scheduling.pending_requests(clinic, desk)
        assert [item.id for item in queue] == [request["id"]]

        theirs_made = other.post("/appointments/", json={"doctor": other_doc.doctor_id}).json()
        assert theirs_made["appointment_type"] == "Offline"
        assert (
            patient.post(
                "/appointments/", json={"doctor": doc.doctor_id, "appointment_type": "Video"}
            ).status_code
            == 400
        )
        assert patient.post("/appointments/", json={"doctor": 999999}).status_code == 404
        assert (
            patient.post(
                "/appointments/", json={"doctor": doc.doctor_id, "time": 999999}
            ).status_code
            == 400
        )

        # A patient sees only their own: not the original's list of everyone's.
        listed = patient.get("/appointments/").json()
        assert [row["id"] for row in listed["results"]] == [request["id"]]
        assert patient.get("/appointments/", params={"patient_id": theirs.id}).json()["count"] == 0
        assert patient.get(f"/appointments/{theirs_made['id']}/").status_code == 404
        assert (
            patient.patch(f"/appointments/{theirs_made['id']}/", json={"cancel": True}).status_code
            == 404
        )
        assert patient.delete(f"/appointments/{theirs_made['id']}/").status_code == 404

        changed = patient.put(
            f"/appointments/{request['id']}/",
            json={"doctor": other_doc.doctor_id, "symptoms": "fever", "cancel": False},
        ).json()
        assert changed["cancel"] is False and changed["doctor"] == other_doc.doctor_id
        assert changed["symptoms"] == "fever"
        cancelled = patient.patch(f"/appointments/{request['id']}/", json={"cancel": True})
        assert cancelled.status_code == 200 and cancelled.json()["cancel"] is True
        # A cancelled appointment stays cancelled (a new one is booked instead).
        revived = patient.patch(f"/appointments/{request['id']}/", json={"cancel": False})
        assert revived.status_code == 400

    # Staff see all and filter; the doctor sees theirs; status words follow the lifecycle.
    now = clinic.now()
    (slot,) = doctors.free_slots(
        clinic, SYSTEM, [doc.doctor_id], now, now + timedelta(days=7), limit=1
    )
    hold = scheduling.hold_slot(clinic, desk, slot.id, mine.id)
    booked = scheduling.confirm_booking(clinic, desk, slot.id, mine.id, token=hold.token)
    with (
        api.client(api.token_for(desk_user)) as staff,
        api.client(api.token_for(doc.user)) as doctor,
    ):
        assert staff.get("/appointments/").json()["count"] == 3
        assert staff.get("/appointments/", params={"patient_id": theirs.id}).json()["count"] == 1
        by_doctor = staff.get("/appointments/", params={"doctor_id": doc.doctor_id}).json()
        assert [row["id"] for row in by_doctor["results"]] == [booked.id]
        assert [row["id"] for row in doctor.get("/appointments/").json()["results"]] == [booked.id]
        scheduling.set_status(clinic, desk, booked.id, AppointmentStatus.IN_PROGRESS)
        assert doctor.get(f"/appointments/{booked.id}/").json()["appointment_status"] == "Runing"
        scheduling.set_status(clinic, desk, booked.id, AppointmentStatus.COMPLETED)
        assert staff.get(f"/appointments/{booked.id}/").json()["appointment_status"] == "Complated"
        # The desk cancels; deleting an appointment from the record is an admin's call.
        assert staff.delete(f"/appointments/{theirs_made['id']}/").status_code == 403
        with api.client(api.token_for(api.staff(Role.ADMIN))) as admin:
            assert admin.delete(f"/appointments/{theirs_made['id']}/").status_code == 204
        assert staff.get(f"/appointments/{theirs_made['id']}/").status_code == 404


def test_services_and_contacts(api: LiveServer) -> None:
    admin_user = api.staff(Role.ADMIN)
    _, patient_user = api.patient_user()
    with (
        api.client(api.token_for(admin_user)) as admin,
        api.client(api.token_for(patient_user)) as patient,
        api.client() as anonymous,
    ):
        made = admin.post(
            "/services/",
            data={"name": "X-ray", "description": "Imaging"},
            files={"image": ("x.png", png_bytes(), "image/png")},
        )
        assert made.status_code == 201, made.text
        service = made.json()
        assert service["name"] == "X-ray" and service["image"].startswith(api.url + "/media/")
        assert anonymous.get(service["image"]).headers["content-type"] == "image/png"
        assert (
            admin.post(
                "/services/", data={"name": "Bad"}, files={"image": ("x", b"nope")}
            ).status_code
            == 400
        )
        assert admin.post("/services/", data={"description": "no name"}).status_code == 400
        assert patient.post("/services/", data={"name": "Spa"}).status_code == 403
        assert anonymous.get("/services/").json() == [service]
        assert anonymous.get(f"/services/{service['id']}/").json() == service
        assert (
            admin.patch(f"/services/{service['id']}/", data={"description": "Scans"}).json()[
                "description"
            ]
            == "Scans"
        )
        assert (
            admin.put(f"/services/{service['id']}/", data={"name": "MRI"}).json()["name"] == "MRI"
        )
        assert patient.delete(f"/services/{service['id']}/").status_code == 403
        assert admin.delete(f"/services/{service['id']}/").status_code == 204
        assert anonymous.get(f"/services/{service['id']}/").status_code == 404

        left = anonymous.post(
            "/contacts/", json={"name": "Walk In", "phone": "+1 555 0100", "massage": "Call me"}
        )
        assert left.status_code == 201
        contact = left.json()
        assert contact["massage"] == "Call me" and contact["phone"] == "+15550100"
        assert (
            anonymous.post(
                "/contacts/", json={"name": "X", "phone": "1", "massage": "m"}
            ).status_code
            == 400
        )
        assert anonymous.post("/contacts/", json={"name": "X"}).status_code == 400
        assert anonymous.get("/contacts/").status_code == 401
        assert patient.get("/contacts/").status_code == 403
        assert patient.get(f"/contacts/{contact['id']}/").status_code == 403
        assert admin.get("/contacts/").json() == [contact]
        assert admin.get(f"/contacts/{contact['id']}/").json() == contact
        assert (
            admin.patch(f"/contacts/{contact['id']}/", json={"massage": "Done"}).json()["massage"]
            == "Done"
        )
        assert (
            admin.put(
                f"/contacts/{contact['id']}/",
                json={"name": "A B", "phone": "5550100", "massage": "z"},
            ).json()["name"]
            == "A B"
        )
        assert (
            patient.patch(f"/contacts/{contact['id']}/", json={"massage": "x"}).status_code == 403
        )
        assert patient.delete(f"/contacts/{contact['id']}/").status_code == 403
        assert admin.delete(f"/contacts/{contact['id']}/").status_code == 204
        assert admin.get(f"/contacts/{contact['id']}/").status_code == 404
