"""The booking API (seed 000) over real HTTP: every endpoint, its success and its errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hms_desktop.api.deps import SESSION_COOKIE
from hms_desktop.domain.enums import Role
from hms_desktop.domain.models import SYSTEM
from hms_desktop.domain.schedule import iso_millis
from hms_desktop.services import doctors
from tests import factories
from tests.api.conftest import LiveServer


def _free(api: LiveServer, doctor_id: int, count: int) -> list[int]:
    now = api.clinic.now()
    slots = doctors.free_slots(
        api.clinic, SYSTEM, [doctor_id], now, now + timedelta(days=7), limit=count
    )
    return [slot.id for slot in slots]


def test_register_login_and_session_revoke(api: LiveServer) -> None:
    with api.client() as anonymous:
        created = anonymous.post(
            "/patients",
            json={
                "username": "patient6",
                "password": "secret-pass-6",
                "full_name": "Patient six",
                "gender": "female",
                "dob": "1995-01-01",
            },
        )
        assert created.status_code == 201, created.text
        body = created.json()
        assert body["userName"] == "patient6" and body["fullName"] == "Patient six"
        assert body["gender"] == "female" and body["dob"] == "1995-01-01T00:00:00.000Z"
        assert isinstance(body["userId"], int)

        again = anonymous.post(
            "/patients",
            json={"username": "PATIENT6", "password": "secret-pass-6", "full_name": "Other"},
        )
        assert (again.status_code, again.json()) == (400, {"message": "Username already exists."})

        bad = anonymous.post("/sessions", json={"username": "patient6", "password": "wrong-pass"})
        assert (bad.status_code, bad.json()) == (401, {"error": "Invalid username or password."})
        assert anonymous.get("/appointments").status_code == 401

        login = anonymous.post(
            "/sessions", json={"username": "patient6", "password": "secret-pass-6"}
        )
        assert (login.status_code, login.json()) == (201, {"message": "Session created."})
        set_cookie = login.headers["set-cookie"].lower()
        assert "httponly" in set_cookie and "samesite=lax" in set_cookie
        assert "secure" not in set_cookie  # plain http here; https sets Secure
        session = anonymous.cookies[SESSION_COOKIE]
        assert anonymous.get("/appointments").json() == []

        assert anonymous.delete("/sessions").status_code == 204
    # The revoked cookie does not work again, even when a client replays it.
    with api.client(cookie=session) as replay:
        denied = replay.get("/appointments")
        assert denied.status_code == 401 and "error" in denied.json()


def test_register_rejects_bad_input_with_json(api: LiveServer) -> None:
    with api.client() as client:
        missing = client.post("/patients", json={"username": "x"})
        assert missing.status_code == 400 and "error" in missing.json()
        malformed = client.post(
            "/patients", content=b"{not json", headers={"content-type": "application/json"}
        )
        assert malformed.status_code == 400
        assert malformed.json() == {"error": "Malformed JSON in the request body."}
        short = client.post(
            "/patients", json={"username": "shorty", "password": "x", "full_name": "A B"}
        )
        assert short.json() == {"error": "Password must be at least 8 characters."}


def test_hold_confirm_list_reschedule_cancel(api: LiveServer) -> None:
    clinic = api.clinic
    spec = factories.speciality(clinic, "Dermatology")
    doc = api.doctor(specialisation_ids=[spec], first_name="doctor", last_name="B")
    record, user = api.patient_user(full_name="Patient three")
    first, second, third = _free(api, doc.doctor_id, 3)
    with api.client(cookie=api.session_for(user)) as patient:
        missing = patient.post("/appointments/me", json={})
        assert (missing.status_code, missing.json()) == (400, {"error": "Missing slot ID."})
        held = patient.post("/appointments/me", json={"slot": first})
        assert held.status_code == 201
        token = held.json()["appointmentId"]
        assert len(token) == 36
        # Holding again returns the same hold.
        assert patient.post("/appointments/me", json={"slot": first}).json() == held.json()

        assert patient.put("/appointments/me", json={}).json() == {"error": "Missing slot ID."}
        nothing = patient.put("/appointments/me", json={"slot": second})
        assert (nothing.status_code, nothing.json()) == (
            422,
            {"error": "No scheduled appointment found."},
        )
        confirmed = patient.put("/appointments/me", json={"slot": first, "appointmentId": token})
        assert confirmed.status_code == 200, confirmed.text
        booking = confirmed.json()
        assert booking["doctor_name"] == "doctor B"
        assert booking["patient_id"] == record.id and booking["patient_name"] == "Patient three"
        assert booking["status"] == "scheduled" and booking["duration"] == 15
        assert booking["slot_date"].endswith("T00:00:00.000Z")  # UTC clinic: local midnight
        assert len(booking["start_time"]) == 8

        booked = patient.post("/appointments/me", json={"slot": first})
        assert (booked.status_code, booked.json()) == (422, {"error": "Slot is already booked."})

        listed = patient.get("/appointments")
        assert listed.status_code == 200 and listed.json() == [booking]

        appointment_id = booking["appointment_id"]
        moved = patient.put(f"/appointments/{appointment_id}", json={"newSlot": second})
        assert moved.status_code == 200, moved.text
        assert moved.json()["status"] == "rescheduled"
        assert patient.put(f"/appointments/{appointment_id}", json={}).json() == {
            "error": "Missing slot ID."
        }
        gone = patient.put("/appointments/999999", json={"slot": third})
        assert (gone.status_code, gone.json()) == (400, {"error": "Appointment does not exist."})

    # Someone else's appointment: not theirs to move or cancel.
    _, stranger = api.patient_user()
    with api.client(cookie=api.session_for(stranger)) as other:
        for response in (
            other.put(f"/appointments/{appointment_id}", json={"slot": third}),
            other.delete(f"/appointments/{appointment_id}"),
        ):
            assert (response.status_code, response.json()) == (
                403,
                {"error": "You are not authorized to reschedule the appointment."},
            )
        # Into a slot that is taken: the seed's message without a full stop.
        other_hold = other.post("/appointments/me", json={"slot": third})
        assert other_hold.status_code == 201
        assert other.put("/appointments/me", json={"slot": third}).status_code == 200
        own = other.get("/appointments").json()[0]["appointment_id"]
        clash = other.put(f"/appointments/{own}", json={"slot": second})
        assert (clash.status_code, clash.json()) == (422, {"error": "Slot is already booked"})

    with api.client(cookie=api.session_for(user)) as patient:
        assert patient.delete(f"/appointments/{appointment_id}").status_code == 204
        assert patient.delete("/appointments/999999").json() == {
            "error": "Appointment does not exist."
        }
        assert patient.get("/appointments").json()[0]["status"] == "cancelled"
        # The slot is free again at once.
        assert patient.post("/appointments/me", json={"slot": second}).status_code == 201

    # The doctor sees their schedule; a receptionist is neither patient nor doctor.
    with api.client(api.token_for(doc.user)) as doctor:
        schedule = doctor.get("/appointments").json()
        assert {item["appointment_id"] for item in schedule} >= {own}
    desk_user = api.staff(Role.RECEPTIONIST)
    with api.client(api.token_for(desk_user)) as desk:
        refused = desk.get("/appointments")
        assert (refused.status_code, refused.json()) == (
            403,
            {"error": "User is not a patient or doctor."},
        )
        not_patient = desk.post("/appointments/me", json={"slot": third})
        assert (not_patient.status_code, not_patient.json()) == (
            403,
            {"error": "Patient does not exist."},
        )


def test_hold_of_another_patient_is_locked_and_not_theirs_to_confirm(api: LiveServer) -> None:
    doc = api.doctor()
    (slot,) = _free(api, doc.doctor_id, 1)
    _, first = api.patient_user()
    _, second = api.patient_user()
    with (
        api.client(cookie=api.session_for(first)) as one,
        api.client(cookie=api.session_for(second)) as two,
    ):
        assert one.post("/appointments/me", json={"slot": slot}).status_code == 201
        locked = two.post("/appointments/me", json={"slot": slot})
        assert (locked.status_code, locked.json()) == (
            422,
            {"error": "Slot is temporarily locked."},
        )
        stolen = two.put("/appointments/me", json={"slot": slot})
        assert (stolen.status_code, stolen.json()) == (
            403,
            {"error": "Unauthorized access to the slot."},
        )


def test_doctors_list_details_and_speciality_search(api: LiveServer) -> None:
    clinic = api.clinic
    cardio = factories.speciality(clinic, "Cardiology")
    factories.speciality(clinic, "Neurology")
    doc = api.doctor(specialisation_ids=[cardio], first_name="doctor", last_name="A")
    _, user = api.patient_user()
    with api.client(cookie=api.session_for(user)) as patient:
        listed = patient.get("/doctors")
        assert listed.json() == [
            {"doctor_id": doc.doctor_id, "full_name": "doctor A", "speciality": "Cardiology"}
        ]
        details = patient.get(f"/doctors/{doc.doctor_id}")
        assert details.status_code == 200
        body = details.json()
        assert body["full_name"] == "doctor A" and body["speciality"] == "Cardiology"
        assert body["fees"] == 50 and body["dob"] is None and body["description"] is None
        slots = body["availableTimeSlots"]
        assert slots and all(slot["duration"] == 15 for slot in slots)
        first = slots[0]["slotId"]
        assert patient.post("/appointments/me", json={"slot": first}).status_code == 201
        # A held slot is no longer offered.
        again = patient.get(f"/doctors/{doc.doctor_id}").json()["availableTimeSlots"]
        assert first not in [slot["slotId"] for slot in again]

        missing = patient.get("/doctors/999999")
        assert (missing.status_code, missing.json()) == (404, {"error": "Doctor does not exist."})

        now = datetime.now(UTC)
        window = {"startTime": iso_millis(now), "endTime": iso_millis(now + timedelta(days=1))}
        found = patient.get("/doctors/specialities/cardiology", params=window)
        assert found.status_code == 200
        results = found.json()
        assert results and {row["doctor_id"] for row in results} == {doc.doctor_id}
        assert first not in {row["slot_id"] for row in results}
        assert set(results[0]) == {
            "doctor_id",
            "full_name",
            "gender",
            "fees",
            "slot_id",
            "slot_time",
            "duration",
        }
        assert results[0]["slot_time"].endswith(".000Z")

        def error(path: str, params: dict[str, str]) -> tuple[int, dict[str, str]]:
            response = patient.get(path, params=params)
            return response.status_code, response.json()

        assert error("/doctors/specialities/cardiology", {}) == (
            400,
            {"error": "Start time and end time are required."},
        )
        reversed_window = {"startTime": window["endTime"], "endTime": window["startTime"]}
        assert error("/doctors/specialities/cardiology", reversed_window) == (
            400,
            {"error": "Start time must be earlier than end time."},
        )
        assert error("/doctors/specialities/astrology", window) == (
            400,
            {"error": "Invalid speciality of doctor requested."},
        )
        assert error("/doctors/specialities/neurology", window) == (
            404,
            {"error": "No doctors available for the selected time slot."},
        )
        assert error("/doctors/specialities/cardiology", {**window, "startTime": "soon"})[0] == 400


def test_booking_calls_need_a_session(api: LiveServer) -> None:
    doc = api.doctor()
    with api.client() as anonymous:
        # The doctors and their free slots are the public catalogue...
        assert anonymous.get("/doctors").status_code == 200
        assert anonymous.get(f"/doctors/{doc.doctor_id}").status_code == 200
        # ...everything about a patient needs their session.
        for method, path in (
            ("GET", "/appointments"),
            ("POST", "/appointments/me"),
            ("PUT", "/appointments/me"),
            ("PUT", "/appointments/1"),
            ("DELETE", "/appointments/1"),
            ("DELETE", "/sessions"),
        ):
            response = anonymous.request(method, path, json={"slot": 1})
            assert response.status_code == 401, (method, path)
            assert response.json() == {"error": "Authentication credentials were not provided."}
    with api.client("not-a-token") as forged:
        response = forged.get("/doctors")
        assert response.status_code == 401 and response.json() == {
            "error": "Token is invalid or expired"
        }


def test_no_slash_redirects_between_the_documents(api: LiveServer) -> None:
    with api.client() as client:
        response = client.get("/sessions/", follow_redirects=False)
        assert response.status_code == 404 and response.json() == {"detail": "Not Found"}
        assert client.post("/patients/x", json={}).status_code in (404, 405)


def test_dates_follow_the_clinic_time_zone(serve) -> None:  # type: ignore[no-untyped-def]
    """The seed's clinic is in UTC+05:30: its midnight is 18:30 the day before in UTC."""
    api: LiveServer = serve(timezone="Asia/Kolkata")
    with api.client() as client:
        created = client.post(
            "/patients",
            json={
                "username": "patient6",
                "password": "secret-pass-6",
                "full_name": "Patient six",
                "gender": "female",
                "dob": "1994-12-31T18:30:00.000Z",
            },
        )
        assert created.json()["dob"] == "1994-12-31T18:30:00.000Z"
    doc = api.doctor()
    now = api.clinic.now()
    (slot,) = doctors.free_slots(
        api.clinic, SYSTEM, [doc.doctor_id], now, now + timedelta(days=7), limit=1
    )
    record, user = api.patient_user()
    with api.client(cookie=api.session_for(user)) as patient:
        assert patient.post("/appointments/me", json={"slot": slot.id}).status_code == 201
        booking = patient.put("/appointments/me", json={"slot": slot.id}).json()
    local = slot.start.astimezone(ZoneInfo("Asia/Kolkata"))
    assert booking["patient_id"] == record.id
    assert booking["start_time"] == local.strftime("%H:%M:%S")
    midnight = datetime.combine(local.date(), datetime.min.time(), tzinfo=local.tzinfo)
    assert booking["slot_date"] == iso_millis(midnight)
    assert booking["slot_date"].endswith("T18:30:00.000Z")


def test_session_cookie_is_secure_behind_https(api: LiveServer) -> None:
    _, user = api.patient_user(username="https-user", password="secret-pass-7")
    with api.client() as client:
        login = client.post(
            "/sessions",
            json={"username": "https-user", "password": "secret-pass-7"},
            # What a TLS-terminating proxy on this host tells the server.
            headers={"X-Forwarded-Proto": "https"},
        )
    assert login.status_code == 201
    cookie = login.headers["set-cookie"].lower()
    assert "secure" in cookie and "httponly" in cookie and "samesite=lax" in cookie
    assert user.username == "https-user"
