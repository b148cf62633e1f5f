"""One test per finding of the access review (issue 8) that the permission matrix and the
bad-input sweep do not already pin down on their own: each failed on the code before the
one access policy."""

from __future__ import annotations

import io
import json
import queue
import re
import threading
from collections.abc import Callable
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from PIL import Image
from sqlalchemy import select

from hms_desktop.api import desk_events
from hms_desktop.api.openapi import PUBLIC, access
from hms_desktop.domain.models import SYSTEM, ChangeEvent
from hms_desktop.services import accounts
from hms_desktop.store.tables import AuditEntry
from tests import factories
from tests.api.conftest import LiveServer
from tests.api.permission_world import PASSWORD, build_world


def _bearer(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


def test_a_patient_gets_nothing_from_the_desk_api(api: LiveServer) -> None:
    """Critical: a self-registered patient read every appointment through the calendar."""
    world = build_world(api)
    window = {"start": "2000-01-01T00:00:00Z", "end": "2100-01-01T00:00:00Z"}
    with api.client(world.people["patient"].token) as patient:
        calendar = patient.get(
            "/desk/v1/calendar", params={**window, "doctor_id": [world.doctor_a, world.doctor_b]}
        )
        assert calendar.status_code == 403
        assert "Alma" not in calendar.text and "Bruno" not in calendar.text
        assert patient.get("/desk/v1/events").status_code == 403
        login = patient.post(
            "/desk/v1/session", json={"username": world.patient_a.username, "password": PASSWORD}
        )
        assert login.status_code == 403 and "patients use the online portal" in login.text


def test_the_calendar_window_and_its_doctors_are_bounded(api: LiveServer) -> None:
    world = build_world(api)
    with api.client(world.people["receptionist"].token) as desk_client:
        century = desk_client.get(
            "/desk/v1/calendar",
            params={
                "start": "2000-01-01T00:00:00Z",
                "end": "2100-01-01T00:00:00Z",
                "doctor_id": world.doctor_a,
            },
        )
        assert century.status_code == 400 and "62 days" in century.json()["error"]


def test_another_desks_hold_is_released_only_by_taking_it_over(api: LiveServer) -> None:
    """High: anyone with a hold's token (then shown in the calendar) could release it."""
    world = build_world(api)
    hold = world.hold_as("receptionist", world.doctor_a, world.patient_a)
    with api.client(world.people["admin"].token) as other_desk:
        seen = other_desk.get(
            "/desk/v1/calendar",
            params={
                "doctor_id": world.doctor_a,
                "start": world.clinic.now().isoformat(),
                "end": (world.clinic.now() + timedelta(days=27)).isoformat(),
            },
        ).json()
        shown = next(item for item in seen if item["slot"]["id"] == hold.slot_id)
        assert shown["state"] == "held" and shown["hold"]["token"] == ""
        assert hold.token not in json.dumps(seen)
        stolen = other_desk.post(
            f"/desk/v1/holds/{hold.slot_id}/release", json={"token": hold.token}
        )
        assert stolen.status_code == 403
        taken = other_desk.post(f"/desk/v1/holds/{hold.slot_id}/take-over")
        assert taken.status_code == 200 and taken.json() == {"released": True}
    with world.clinic.db.read() as session:
        entry = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert entry is not None
    assert (entry.action, entry.entity, entry.entity_id) == ("take_over", "hold", str(hold.slot_id))
    assert entry.actor == world.people["admin"].user.username  # type: ignore[union-attr]
    assert world.people["receptionist"].user.username in entry.detail  # type: ignore[union-attr]


class EventFollower:
    """Follows the desk event stream with one token in a thread, until closed."""

    def __init__(self, api: LiveServer, token: str | None) -> None:
        self.events: queue.Queue[ChangeEvent] = queue.Queue()
        self.connected = threading.Event()
        self._client = httpx.Client(base_url=api.url, timeout=30)
        self._token = token
        self._thread = threading.Thread(target=self._follow, daemon=True)
        self._thread.start()
        assert self.connected.wait(10), "the event stream did not connect"

    def _follow(self) -> None:
        try:
            with self._client.stream(
                "GET", "/desk/v1/events", headers=_bearer(self._token)
            ) as stream:
                for line in stream.iter_lines():
                    if line == ": connected":
                        self.connected.set()
                    elif line.startswith("data: "):
                        event = json.loads(line.removeprefix("data: "))
                        self.events.put(ChangeEvent.from_dict(event))
        except httpx.HTTPError:
            return  # closed by the test

    def drain(self, quiet: float = 1.0) -> list[ChangeEvent]:
        """Everything heard until nothing more came for `quiet` seconds."""
        heard = []
        while True:
            try:
                heard.append(self.events.get(timeout=quiet))
            except queue.Empty:
                return heard

    def close(self) -> None:
        self._client.close()
        self._thread.join(timeout=5)


def test_the_event_stream_carries_each_listener_only_what_they_may_see(
    api: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stream sent every desk's changes to anyone, with patients' usernames in holds."""
    monkeypatch.setattr(desk_events, "HEARTBEAT_SECONDS", 0.2)
    world = build_world(api)
    doctor = EventFollower(api, world.people["doctor"].token)
    reception = EventFollower(api, world.people["receptionist"].token)
    # Patient B holds a slot of doctor B, then one of doctor A; patient A books doctor A.
    world.hold_as("other_patient", world.doctor_b)
    own = world.hold_as("other_patient", world.doctor_a)
    world.booking_for_a()
    seen_by_desk = [reception.events.get(timeout=10) for _ in range(4)]  # 2 holds, hold + book
    assert {event.doctor_id for event in seen_by_desk} == {world.doctor_a, world.doctor_b}
    assert any(event.extra.get("holder") for event in seen_by_desk)
    seen_by_doctor = doctor.drain()
    doctor.close()
    reception.close()
    assert seen_by_doctor, "the doctor heard nothing of their own schedule"
    assert {event.doctor_id for event in seen_by_doctor} == {world.doctor_a}
    assert all(event.extra == {} for event in seen_by_doctor)
    assert any(event.slot_id == own.slot_id for event in seen_by_doctor)
    assert world.patient_b.username not in json.dumps([vars(e) for e in seen_by_doctor])
    # Whom a slot of theirs is held for is the desk's to know, not the doctor's.
    assert all(e.patient_id is None for e in seen_by_doctor if e.kind in ("hold", "release"))


def test_one_patient_holds_only_a_few_slots(serve: Callable[..., LiveServer]) -> None:
    """One patient held 40 slots at once and could keep a doctor's week blocked."""
    api = serve(max_holds_per_patient=3)
    world = build_world(api)  # patient A holds one slot already
    with api.client(world.people["patient"].token) as patient:
        answers = [
            patient.post("/appointments/me", json={"slot": world.free_slot(world.doctor_a)})
            for _ in range(4)
        ]
    assert [answer.status_code for answer in answers] == [201, 201, 422, 422]
    assert answers[-1].json() == {
        "error": "This patient already holds 3 slots. Confirm or let one go before holding another."
    }
    # The desk cannot stack holds for them either; someone else still gets the slot.
    with api.client(world.people["receptionist"].token) as desk_client:
        slot = world.free_slot(world.doctor_a)
        refused = desk_client.post(
            "/desk/v1/holds", json={"slot_id": slot, "patient_id": world.patient_a.id}
        )
        assert refused.status_code == 422 and refused.json()["type"] == "TooManyHolds"
        other = desk_client.post(
            "/desk/v1/holds", json={"slot_id": slot, "patient_id": world.patient_b.id}
        )
        assert other.status_code == 201


def _from(api: LiveServer, address: str) -> httpx.Client:
    """A client whose requests come from this loopback address."""
    transport = httpx.HTTPTransport(local_address=address)
    return httpx.Client(base_url=api.url, transport=transport, timeout=10)


def test_a_stranger_guessing_cannot_lock_the_owner_out(serve: Callable[..., LiveServer]) -> None:
    """Five wrong passwords from anywhere locked an account for everyone, and the lock
    message told which usernames exist."""
    api = serve(rate_limit_login="5/minute", rate_limit_login_client="1000/minute")
    world = build_world(api)
    admin = world.people["admin"].user
    assert admin is not None
    with _from(api, "127.0.0.9") as stranger:
        for _ in range(5):
            assert (
                stranger.post(
                    "/api/user/login/", json={"username": admin.username, "password": "guess"}
                ).status_code
                == 401
            )
        locked_out = stranger.post(
            "/api/user/login/", json={"username": admin.username, "password": PASSWORD}
        )
        assert locked_out.status_code == 429 and "Retry-After" in locked_out.headers
        # An unknown name is answered exactly alike.
        for _ in range(5):
            stranger.post("/api/user/login/", json={"username": "nobody-x", "password": "g"})
        unknown = stranger.post("/api/user/login/", json={"username": "nobody-x", "password": "g"})
        assert unknown.status_code == 429
        assert re.sub(r"\d+", "N", unknown.text) == re.sub(r"\d+", "N", locked_out.text)
    with _from(api, "127.0.0.10") as owner:
        for path in ("/api/user/login/", "/sessions"):
            answer = owner.post(path, json={"username": admin.username, "password": PASSWORD})
            assert answer.status_code in (200, 201), answer.text
        desk_login = owner.post(
            "/desk/v1/session", json={"username": admin.username, "password": PASSWORD}
        )
        assert desk_login.status_code == 200


def test_passwords_over_72_bytes_are_a_wrong_password_at_every_log_in(api: LiveServer) -> None:
    world = build_world(api)
    name = world.people["receptionist"].user.username  # type: ignore[union-attr]
    with api.client() as client:
        for path in ("/api/user/login/", "/sessions", "/desk/v1/session"):
            answer = client.post(path, json={"username": name, "password": "é" * 60})
            assert answer.status_code == 401, (path, answer.text)


def test_logging_out_ends_the_access_token_too(api: LiveServer) -> None:
    world = build_world(api)
    user = world.people["patient"].user
    assert user is not None
    pair = accounts.issue_tokens(world.clinic, user)
    with api.client(pair.access) as client:
        assert client.get("/api/user/profiles/me/").status_code == 200
        assert client.post("/api/user/logout/", json={"refresh": pair.refresh}).status_code == 200
        assert client.get("/api/user/profiles/me/").status_code == 401


def test_the_host_header_does_not_steer_links(serve: Callable[..., LiveServer]) -> None:
    api = serve()
    world = build_world(api)
    evil = {"Host": "evil.example"}
    with api.client(world.people["admin"].token) as client:
        page = client.get("/patients/", params={"limits": 1}, headers=evil).json()
        assert page["next"].startswith("http://127.0.0.1:")
        service = client.get(f"/services/{world.service_id}/", headers=evil).json()
        assert service["image"].startswith("http://127.0.0.1:") and "evil" not in service["image"]
    configured = serve(public_url="https://hms.clinic.example/")
    other = build_world(configured)
    with configured.client(other.people["admin"].token) as client:
        page = client.get("/patients/", params={"limits": 1}, headers=evil).json()
        assert page["next"].startswith("https://hms.clinic.example/patients/?")
        link = client.get(f"/services/{other.service_id}/").json()["image"]
        assert link.startswith("https://hms.clinic.example/media/")
        # A picture is reached through the link it was given, not by counting ids.
        path = link.removeprefix("https://hms.clinic.example")
        assert client.get(path).status_code == 200
        assert client.get(path.split("?")[0]).status_code == 404


def test_media_and_every_answer_carry_security_headers(api: LiveServer) -> None:
    world = build_world(api)
    with api.client(world.people["admin"].token) as client:
        link = client.get(f"/services/{world.service_id}/").json()["image"]
        picture = client.get(link.removeprefix(api.url))
        assert picture.status_code == 200
        for answer in (picture, client.get("/doctors/"), client.get("/nowhere")):
            assert answer.headers["X-Content-Type-Options"] == "nosniff"
            assert answer.headers["X-Frame-Options"] == "DENY"
            assert "default-src 'none'" in answer.headers["Content-Security-Policy"]


def test_the_schema_says_what_the_server_does(api: LiveServer) -> None:
    # Building the document takes a second or more on a busy machine (httpx waits 5 s).
    schema = httpx.get(f"{api.url}/openapi.json", timeout=60).json()
    paths = schema["paths"]
    # Public operations ask for no log-in (or make it optional); others for a token.
    assert paths["/api/user/login/"]["post"]["security"] == []
    assert {} in paths["/doctors/"]["get"]["security"]
    assert paths["/patients/"]["get"]["security"] == [{"HTTPBearer": []}]
    # Desk operations document what they answer.
    assert {"401", "403", "404", "409", "422"} <= set(paths["/desk/v1/holds"]["post"]["responses"])
    # The hospital document has no 409 or 422, and declares none.
    hospital = paths["/specialisations/"]["post"]["responses"]
    assert "409" not in hospital and "422" not in hospital
    world = build_world(api)
    with api.client(world.people["admin"].token) as client:
        assert client.put("/api/user/profiles/me/", data={"bio": "x"}).status_code == 405
        missing = client.get("/desk/v1/patients/999999")
        assert missing.status_code == 404 and missing.json()["error"] == "Patient does not exist."
        # Where a seed fixes a status, it stays: the booking API's 400 for a missing one.
    with api.client(world.people["patient"].token) as patient:
        assert patient.delete("/appointments/999999").status_code == 400


def test_a_doctor_sees_and_changes_only_what_is_theirs(api: LiveServer) -> None:
    """A doctor read every patient and changed one through the desk API."""
    world = build_world(api)
    with api.client(world.people["doctor"].token) as doctor:
        found = doctor.get("/desk/v1/patients", params={"q": "a"}).json()
        assert [record["id"] for record in found] == [world.patient_a.id]
        assert doctor.get(f"/desk/v1/patients/{world.patient_b.id}").status_code == 404
        assert doctor.get(f"/desk/v1/patients/{world.patient_b.id}/history").status_code == 404
        change = doctor.put(
            f"/desk/v1/patients/{world.patient_a.id}", json={"full_name": "Changed Name"}
        )
        assert change.status_code == 403
        hospital = doctor.patch(f"/patients/{world.patient_a.id}/", data={"phone": "0700999888"})
        assert hospital.status_code == 403


# --- a second look, as an outsider (the same issue) ----------------------------------------


def test_a_patient_books_only_a_few_appointments_online(serve: Callable[..., LiveServer]) -> None:
    """Hold, confirm, repeat: one self-registered account booked fifteen slots."""
    api = serve(max_online_bookings_per_patient=3)
    world = build_world(api)  # patient A has one booking and one request already
    with api.client(world.people["patient"].token) as patient:
        slot = world.free_slot(world.doctor_a)
        assert patient.post("/appointments/me", json={"slot": slot}).status_code == 201
        assert patient.put("/appointments/me", json={"slot": slot}).status_code == 200
        refused = patient.post("/appointments/me", json={"slot": world.free_slot(world.doctor_a)})
        assert refused.status_code == 422 and "call the clinic" in refused.json()["error"]
        request = patient.post("/appointments/", json={"doctor": world.doctor_a})
        assert request.status_code == 400 and "call the clinic" in request.json()["detail"]
    # The desk books for them all the same.
    hold = world.hold_as("receptionist", world.doctor_a, world.patient_a)
    with api.client(world.people["receptionist"].token) as desk_client:
        booked = desk_client.post(
            "/desk/v1/appointments",
            json={"slot_id": hold.slot_id, "patient_id": world.patient_a.id, "token": hold.token},
        )
        assert booked.status_code == 201


def test_registrations_per_address_are_limited(serve: Callable[..., LiveServer]) -> None:
    api = serve(rate_limit_register="3/hour")
    with api.client() as stranger:
        answers = [
            stranger.post(
                "/api/user/register/",
                json={
                    "username": f"bulk{number}",
                    "password": PASSWORD,
                    "confirm_password": PASSWORD,
                    "first_name": "Bulk",
                },
            ).status_code
            for number in range(4)
        ]
    assert answers == [201, 201, 201, 429]


def test_a_cancelled_appointment_stays_cancelled(api: LiveServer) -> None:
    """`cancel: false` brought back any cancelled appointment (and past no-shows), past
    whoever held the slot meanwhile."""
    world = build_world(api)
    appointment = world.booking_for_a()
    with api.client(world.people["patient"].token) as patient:
        assert patient.patch(f"/appointments/{appointment}/", json={"cancel": True}).json()[
            "cancel"
        ]
        revived = patient.patch(f"/appointments/{appointment}/", json={"cancel": False})
        assert revived.status_code == 400 and "still ahead" in revived.json()["detail"]
        edited = patient.put(f"/appointments/{appointment}/", json={"doctor": world.doctor_a})
        assert edited.status_code == 400


def test_the_desk_cannot_rename_a_colleague_who_is_also_a_patient(api: LiveServer) -> None:
    world = build_world(api)
    with api.client(world.people["admin"].token) as admin:
        card = admin.post("/patients/", data={"phone": "0700 123 987"})
        assert card.status_code == 201
    with api.client(world.people["receptionist"].token) as desk_client:
        renamed = desk_client.put(
            f"/desk/v1/patients/{card.json()['id']}",
            json={"full_name": "Pwned Admin", "email": "attacker@evil.example"},
        )
        assert renamed.status_code == 403
    admin_user = world.people["admin"].user
    assert admin_user is not None
    assert accounts.get_user(api.clinic, SYSTEM, admin_user.id).first_name == "Adam"


def test_an_event_stream_ends_with_its_log_in_and_streams_are_capped(
    serve: Callable[..., LiveServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(desk_events, "HEARTBEAT_SECONDS", 0.2)
    api = serve(max_event_streams_per_user=2)
    world = build_world(api)
    user = world.people["receptionist"].user
    assert user is not None
    pair = accounts.issue_tokens(api.clinic, user)
    first = EventFollower(api, pair.access)
    second = EventFollower(api, pair.access)
    with api.client(pair.access) as desk_client:
        third = desk_client.get("/desk/v1/events")
        assert third.status_code == 429 and "Retry-After" in third.headers
        desk_client.post("/desk/v1/session/logout", json={"refresh": pair.refresh})
    first._thread.join(timeout=5)  # the server ends a stream whose log-in has ended
    assert not first._thread.is_alive()
    second.close()
    first.close()


def test_more_bad_values_that_answered_500(api: LiveServer) -> None:
    world = build_world(api)
    with api.client(world.people["patient"].token) as patient:
        for value in ("²", "9" * 25):
            for method in ("POST", "PUT"):
                answer = patient.request(method, "/appointments/me", json={"appointmentId": value})
                assert answer.status_code in (400, 422), (method, value, answer.text)
            assert patient.get("/patients/", params={"search": value}).status_code == 200
    with api.client(world.people["receptionist"].token) as desk_client:
        for name in ("a\U0010ffff", "ab\ud7ff"):
            assert desk_client.get("/desk/v1/patients", params={"q": name}).status_code == 200
        missing_day = desk_client.get("/desk/v1/doctors/999999/day", params={"day": "2030-01-01"})
        assert missing_day.status_code == 404


def test_even_a_500_carries_the_security_headers(serve: Callable[..., LiveServer]) -> None:
    def broken(app: FastAPI) -> None:
        @app.get("/boom", openapi_extra=access(PUBLIC))
        def boom() -> None:
            raise RuntimeError("boom")

    api = serve(customize=broken)
    with api.client() as client:
        answer = client.get("/boom")
    assert answer.status_code == 500 and "boom" not in answer.text
    assert answer.headers["X-Content-Type-Options"] == "nosniff"


def test_a_replaced_picture_is_gone(api: LiveServer) -> None:
    world = build_world(api)
    with api.client(world.people["admin"].token) as admin:
        old = admin.get(f"/services/{world.service_id}/").json()["image"]
        new = admin.patch(
            f"/services/{world.service_id}/",
            files={"image": ("x.png", factories.png_bytes((9, 9)), "image/png")},
        ).json()["image"]
        assert admin.get(new.removeprefix(api.url)).status_code == 200
        assert admin.get(old.removeprefix(api.url)).status_code == 404


def test_ending_a_booking_session_with_an_access_token_ends_the_log_in(api: LiveServer) -> None:
    world = build_world(api)
    user = world.people["patient"].user
    assert user is not None
    pair = accounts.issue_tokens(api.clinic, user)
    with api.client(pair.access) as patient:
        assert patient.delete("/sessions").status_code == 204
        refreshed = patient.post("/api/user/token/refresh/", json={"refresh": pair.refresh})
        assert refreshed.status_code == 401


def test_usernames_cannot_be_listed_by_renaming(serve: Callable[..., LiveServer]) -> None:
    api = serve(rate_limit_login="3/minute")
    world = build_world(api)
    profile = world.profile_id("patient")
    taken = world.people["admin"].user.username  # type: ignore[union-attr]
    with api.client(world.people["patient"].token) as patient:
        answers = [
            patient.patch(f"/api/user/profiles/{profile}/", data={"username": taken}).status_code
            for _ in range(4)
        ]
    assert answers == [400, 400, 400, 429]


def test_the_booking_session_opens_the_booking_api_only(api: LiveServer) -> None:
    world = build_world(api)
    user = world.people["receptionist"].user
    assert user is not None
    session = accounts.issue_session_token(api.clinic, user)
    with api.client(cookie=session) as cookie_holder:
        assert cookie_holder.get("/doctors").status_code == 200
        assert cookie_holder.get("/desk/v1/session").status_code == 401
        assert cookie_holder.get("/api/user/profiles/me/").status_code == 401
    with api.client(session) as bearer:  # as a bearer token too
        assert bearer.get("/desk/v1/session").status_code == 401


def test_pictures_keep_no_comment_or_profile(api: LiveServer) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, format="JPEG", comment=b"<script>alert(1)</script>")
    world = build_world(api)
    with api.client(world.people["admin"].token) as admin:
        link = admin.patch(
            f"/services/{world.service_id}/",
            files={"image": ("x.jpg", buffer.getvalue(), "image/jpeg")},
        ).json()["image"]
        stored = admin.get(link.removeprefix(api.url)).content
    assert b"<script>" not in stored
    with Image.open(io.BytesIO(stored)) as kept:
        assert "comment" not in kept.info and "icc_profile" not in kept.info


def test_birth_dates_and_usernames_stay_in_range(api: LiveServer) -> None:
    with api.client() as anyone:
        early = anyone.post(
            "/patients",
            json={
                "username": "early1",
                "password": PASSWORD,
                "full_name": "Early Bird",
                "dob": "1900-01-01T00:00:00+23:59",
            },
        )
        assert early.status_code == 400 and "1900" in early.text
        for name in ("Émile", "аdmin"):  # accented; Cyrillic "а"
            answer = anyone.post(
                "/patients", json={"username": name, "password": PASSWORD, "full_name": "X Y"}
            )
            assert answer.status_code == 400, name
