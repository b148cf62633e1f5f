"""The permission matrix: every operation of the three APIs, called as every role (anonymous,
a patient, another patient, a doctor, another doctor, a receptionist, an admin), answers as
the access policy says — and no answer to a patient or a doctor carries another patient's
name, username, symptoms or hold token.

Every operation declares its policy entry (`x-access` in the OpenAPI document); the
expected answer for each role is computed from `hms_desktop.domain.policy`, not written
here. What this file adds is a recipe per operation: which record it is called about
(patient A's and doctor A's, or the caller's own) and with what body. An operation without
a recipe fails the test, so no endpoint reaches the API without a policy entry and a check.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from hms_desktop.api import openapi
from hms_desktop.api.media import _signature
from hms_desktop.domain import policy
from hms_desktop.domain.enums import Role
from hms_desktop.domain.models import SYSTEM, Actor, TimeBlockForm
from hms_desktop.domain.policy import Action, Kind, Owner
from hms_desktop.domain.waitlist import WaitlistForm
from hms_desktop.services import accounts, catalogue, doctor_admin, leave, waitlist
from tests import factories
from tests.api.conftest import LiveServer
from tests.api.permission_world import PASSWORD, ROLES, World, build_world, unique


@dataclass
class Request:
    path: str
    params: dict[str, Any] | None = None
    json: Any = None
    data: dict[str, Any] | None = None
    files: dict[str, Any] | None = None
    token: str | bool | None = True  # True: the caller's own token; else this one (or none)


Build = Callable[[World, str], Request]
OwnerOf = Callable[[World, str], Owner | None]


@dataclass
class Recipe:
    call: Build
    # Whom the record belongs to (None: the operation is about the kind as a whole).
    owner: OwnerOf = lambda world, role: None
    # The policy entry to judge the record by, when it differs from the route's own (a
    # profile of a patient is part of the patient's record).
    entry: tuple[Kind, Action] | None = None
    # What the operation needs beyond the policy: e.g. "/appointments/me" is a patient's.
    needs: Callable[[Actor], bool] = lambda actor: True
    ok: tuple[int, ...] = (200, 201, 204)
    # Answers to a permitted caller that are the request's own business (a second patient
    # record for one account), by role.
    business: dict[str, tuple[int, ...]] = field(default_factory=dict)
    fresh_world: bool = False  # it destroys what later calls need
    login: str | None = None  # "any": a log-in anyone with an account passes; "desk": staff
    stream: bool = False


# --- owners ------------------------------------------------------------------------------------


def patient_a(world: World, role: str) -> Owner:
    return Owner(
        user_id=world.patient_a.user_id,
        patient_id=world.patient_a.id,
        doctor_ids=frozenset({world.doctor_a}),
    )


def appointment_a(world: World, role: str) -> Owner:
    return Owner(patient_id=world.patient_a.id, doctor_id=world.doctor_a)


def doctor_a(world: World, role: str) -> Owner:
    return Owner(doctor_id=world.doctor_a)


def own(world: World, role: str) -> Owner:
    actor = world.actor(role)
    return Owner(user_id=actor.user_id, patient_id=actor.patient_id, doctor_id=actor.doctor_id)


def nobody(world: World, role: str) -> Owner:
    return Owner()


def held_by_desk(world: World, role: str) -> Owner:
    return Owner(user_id=world.actor("receptionist").user_id)


def profile_of(role_of_owner: str) -> OwnerOf:
    def owner(world: World, role: str) -> Owner:
        if role_of_owner == "patient":
            return patient_a(world, role)
        return Owner(user_id=world.actor(role_of_owner).user_id)

    return owner


def is_patient(actor: Actor) -> bool:
    return actor.patient_id is not None


def is_patient_or_doctor(actor: Actor) -> bool:
    return actor.patient_id is not None or actor.doctor_id is not None


# --- requests ----------------------------------------------------------------------------------


def get(path: str, **params: Any) -> Build:
    return lambda world, role: Request(path.format(**_ids(world)), params=params or None)


def _ids(world: World) -> dict[str, Any]:
    return {
        "doctor": world.doctor_a,
        "patient": world.patient_a.id,
        "review": world.review_a,
        "service": world.service_id,
        "contact": world.contact_id,
        "speciality": world.speciality,
    }


def _window(world: World) -> dict[str, str]:
    now = world.clinic.now()
    return {"start": now.isoformat(), "end": (now + timedelta(days=7)).isoformat()}


def register(world: World, role: str) -> Request:
    return Request(
        "/patients",
        json={"username": factories.unique("reg"), "password": PASSWORD, "full_name": "New One"},
    )


def hospital_register(world: World, role: str) -> Request:
    return Request(
        "/api/user/register/",
        json={
            "username": factories.unique("reg"),
            "password": PASSWORD,
            "confirm_password": PASSWORD,
            "first_name": "New",
        },
    )


def credentials(path: str) -> Build:
    def build(world: World, role: str) -> Request:
        user = world.people[role].user
        name = user.username if user else "nobody-at-all"
        return Request(path, json={"username": name, "password": PASSWORD}, token=None)

    return build


def fresh_tokens(path: str, field: str = "refresh") -> Build:
    """A log-in of its own for the caller (logging out must not end the matrix's)."""

    def build(world: World, role: str) -> Request:
        user = world.people[role].user
        if user is None:
            return Request(path, json={field: "not-a-token"}, token=None)
        pair = accounts.issue_tokens(world.clinic, user)
        return Request(path, json={field: pair.refresh}, token=pair.access)

    return build


def end_own_session(world: World, role: str) -> Request:
    user = world.people[role].user
    token = accounts.issue_session_token(world.clinic, user) if user else None
    return Request("/sessions", token=token)


def hold_for_self(world: World, role: str) -> Request:
    return Request("/appointments/me", json={"slot": world.free_slot(world.doctor_a)})


def confirm_a_hold(world: World, role: str) -> Request:
    hold = world.hold_as("patient", world.doctor_a)
    return Request("/appointments/me", json={"slot": hold.slot_id})


def move_booking(path: str) -> Build:
    def build(world: World, role: str) -> Request:
        slot = world.free_slot(world.doctor_a)
        return Request(path.format(id=world.booking_for_a()), json={"slot": slot, "slot_id": slot})

    return build


def booking_path(path: str, body: Any = None) -> Build:
    return lambda world, role: Request(path.format(id=world.booking_for_a()), json=body)


def request_path(path: str, body: Callable[[World], Any] | None = None) -> Build:
    return lambda world, role: Request(
        path.format(id=world.request_for_a()), json=body(world) if body else None
    )


def form(path: str, **data: Any) -> Build:
    return lambda world, role: Request(path.format(**_ids(world)), data=data)


def body(path: str, make: Callable[[World], Any]) -> Build:
    return lambda world, role: Request(path.format(**_ids(world)), json=make(world))


def profile(role_of_owner: str, **data: Any) -> Build:
    def build(world: World, role: str) -> Request:
        return Request(f"/api/user/profiles/{world.profile_id(role_of_owner)}/", data=data)

    return build


def fresh(path: str, make: Callable[[World], int], **extra: Any) -> Build:
    return lambda world, role: Request(path.format(id=make(world)), **extra)


def media(world: World, role: str) -> Request:
    image_id = catalogue.get_service(world.clinic, SYSTEM, world.service_id).image_id
    assert image_id is not None
    secret = world.clinic.settings.secret_key
    return Request(f"/media/{image_id}", params={"sig": _signature(secret, image_id)})


def desk_hold(world: World, role: str) -> Request:
    slot = world.free_slot(world.doctor_a)
    return Request("/desk/v1/holds", json={"slot_id": slot, "patient_id": world.fresh_patient().id})


def release_desk_hold(world: World, role: str) -> Request:
    hold = world.hold_as("receptionist", world.doctor_a, world.fresh_patient())
    return Request(f"/desk/v1/holds/{hold.slot_id}/release", json={"token": hold.token})


def take_over_a_hold(world: World, role: str) -> Request:
    hold = world.hold_as("patient", world.doctor_a)
    return Request(f"/desk/v1/holds/{hold.slot_id}/take-over")


def desk_confirm(world: World, role: str) -> Request:
    holder = role if role in ("receptionist", "admin") else "receptionist"
    hold = world.hold_as(holder, world.doctor_a, world.patient_a)
    return Request(
        "/desk/v1/appointments",
        json={"slot_id": hold.slot_id, "patient_id": world.patient_a.id, "token": hold.token},
    )


def patient_form(world: World) -> dict[str, Any]:
    return {"full_name": world.patient_a.full_name, "date_of_birth": "1990-05-17"}


def new_staff(world: World) -> int:
    """A receptionist of its own for a call that changes the account."""
    return accounts.create_user(
        world.clinic,
        SYSTEM,
        username=factories.unique("st"),
        role=Role.RECEPTIONIST,
        password=PASSWORD,
    ).id


def clinic_settings_body(world: World) -> dict[str, Any]:
    horizon = world.clinic.settings.booking_horizon_days
    return {"name": "Matrix Clinic", "booking_horizon_days": horizon}


# A wrong current password: the policy's answer without changing the persona's password.
WRONG_CURRENT = {"current_password": "not-the-password", "new_password": "another-one-1"}
DESK_PEOPLE = ("doctor", "other_doctor", "receptionist", "admin")


def far_block_body(world: World) -> dict[str, Any]:
    """Leave far beyond the slots the matrix books, so no later call finds them blocked."""
    day = (world.clinic.today() + timedelta(days=300)).isoformat()
    return {"doctor_id": world.doctor_a, "first_day": day, "last_day": day, "reason": "Leave"}


def far_block(world: World) -> int:
    body = far_block_body(world)
    form = TimeBlockForm(
        body["doctor_id"],
        date.fromisoformat(body["first_day"]),
        date.fromisoformat(body["last_day"]),
        body["reason"],
    )
    return leave.add_block(world.clinic, SYSTEM, form).id


def named(path: str) -> Build:
    return lambda world, role: Request(path, json={"name": unique("Entry")})


def doctor_form_of_a(world: World) -> dict[str, Any]:
    """Doctor A's record sent back as it is (other recipes need A's specialisation)."""
    record = doctor_admin.get_doctor_record(world.clinic, SYSTEM, world.doctor_a)
    return {
        "first_name": record.first_name,
        "last_name": record.last_name,
        "specialisation_ids": list(record.specialisation_ids),
        "designation_ids": list(record.designation_ids),
        "fee": record.fee,
    }


def deactivate_a_new_doctor(world: World, role: str) -> Request:
    doctor_id = factories.doctor(world.clinic, hours=[]).doctor_id
    return Request(f"/desk/v1/admin/doctors/{doctor_id}/deactivate")


def doctor_picture(world: World, role: str) -> Request:
    return Request(
        f"/desk/v1/admin/doctors/{world.doctor_a}/picture",
        files={"picture": ("a.png", factories.png_bytes())},
    )


def service_image(world: World, role: str) -> Request:
    return Request(
        f"/desk/v1/catalogue/services/{world.service_id}/image",
        files={"image": ("a.png", factories.png_bytes())},
    )


def rename_a_new_designation(world: World, role: str) -> Request:
    item = factories.designation(world.clinic)
    return Request(f"/desk/v1/catalogue/designations/{item}", json={"name": unique("Renamed")})


def delete_a_new_designation(world: World, role: str) -> Request:
    return Request(f"/desk/v1/catalogue/designations/{factories.designation(world.clinic)}")


# --- one recipe (or more) per operation --------------------------------------------------------

RECIPES: dict[tuple[str, str], list[Recipe]] = {
    # meta
    ("GET", "/api/version"): [Recipe(get("/api/version"))],
    ("GET", "/health"): [Recipe(get("/health"))],
    ("GET", "/media/{image_id}"): [Recipe(media)],
    # booking API
    ("POST", "/patients"): [Recipe(register)],
    ("POST", "/sessions"): [Recipe(credentials("/sessions"), login="any")],
    ("DELETE", "/sessions"): [Recipe(end_own_session, owner=own)],
    ("POST", "/appointments/me"): [Recipe(hold_for_self, owner=own, needs=is_patient)],
    ("PUT", "/appointments/me"): [Recipe(confirm_a_hold, owner=appointment_a, needs=is_patient)],
    ("PUT", "/appointments/{appointment_id}"): [
        Recipe(move_booking("/appointments/{id}"), owner=appointment_a)
    ],
    ("DELETE", "/appointments/{appointment_id}"): [
        Recipe(booking_path("/appointments/{id}"), owner=appointment_a)
    ],
    ("GET", "/appointments"): [Recipe(get("/appointments"), owner=own, needs=is_patient_or_doctor)],
    ("GET", "/doctors"): [Recipe(get("/doctors"))],
    ("GET", "/doctors/{doctor_id}"): [Recipe(get("/doctors/{doctor}"))],
    ("GET", "/doctors/specialities/{name}"): [
        Recipe(
            lambda world, role: Request(
                f"/doctors/specialities/{world.speciality}",
                params={
                    "startTime": world.clinic.now().isoformat(),
                    "endTime": (world.clinic.now() + timedelta(days=7)).isoformat(),
                },
            )
        )
    ],
    # hospital API: accounts
    ("POST", "/api/user/register/"): [Recipe(hospital_register)],
    ("POST", "/api/user/login/"): [Recipe(credentials("/api/user/login/"), login="any")],
    ("POST", "/api/user/logout/"): [Recipe(fresh_tokens("/api/user/logout/"), login="any")],
    ("POST", "/api/user/token/refresh/"): [
        Recipe(fresh_tokens("/api/user/token/refresh/"), login="any")
    ],
    ("GET", "/api/user/profiles/"): [Recipe(get("/api/user/profiles/"))],
    ("POST", "/api/user/profiles/"): [
        Recipe(
            lambda world, role: Request(
                "/api/user/profiles/", data={"username": factories.unique("walkin")}
            ),
            owner=nobody,
        )
    ],
    ("GET", "/api/user/profiles/me/"): [Recipe(get("/api/user/profiles/me/"), owner=own)],
    ("GET", "/api/user/profiles/{profile_id}/"): [
        Recipe(
            lambda world, role: Request(f"/api/user/profiles/{world.profile_id('patient')}/"),
            owner=patient_a,
            entry=(Kind.PATIENT, Action.READ),
        ),
        Recipe(
            lambda world, role: Request(f"/api/user/profiles/{world.profile_id('admin')}/"),
            owner=profile_of("admin"),
        ),
    ],
    **{
        (method, "/api/user/profiles/{profile_id}/"): [
            Recipe(
                profile("patient", bio="Hello"),
                owner=patient_a,
                entry=(Kind.PATIENT, Action.UPDATE),
            ),
            # Nobody but the admin renames the admin.
            Recipe(profile("admin", first_name="Adam"), owner=profile_of("admin")),
        ]
        for method in ("PUT", "PATCH")
    },
    ("DELETE", "/api/user/profiles/{profile_id}/"): [
        Recipe(
            profile("patient"),
            owner=patient_a,
            entry=(Kind.PATIENT, Action.DELETE),
            fresh_world=True,
        ),
        Recipe(profile("admin"), owner=profile_of("admin"), fresh_world=True),
    ],
    # hospital API: patients
    ("GET", "/patients/"): [Recipe(get("/patients/"))],
    ("POST", "/patients/"): [
        Recipe(
            lambda world, role: Request("/patients/", data={"phone": factories.phone()}),
            owner=own,
            business={"patient": (400,), "other_patient": (400,)},
            fresh_world=True,
        )
    ],
    ("GET", "/patients/{patient_id}/"): [Recipe(get("/patients/{patient}/"), owner=patient_a)],
    **{
        (method, "/patients/{patient_id}/"): [
            Recipe(form("/patients/{patient}/", phone="0700 555 011"), owner=patient_a)
        ]
        for method in ("PUT", "PATCH")
    },
    ("DELETE", "/patients/{patient_id}/"): [
        Recipe(get("/patients/{patient}/"), owner=patient_a, fresh_world=True)
    ],
    # hospital API: doctors and catalogue
    ("GET", "/doctors/"): [Recipe(get("/doctors/"))],
    ("POST", "/doctors/"): [
        Recipe(
            form("/doctors/", fee="70"),
            owner=own,
            needs=lambda actor: actor.doctor_id is not None,
            business={"doctor": (400,), "other_doctor": (400,)},
        )
    ],
    ("GET", "/doctors/{doctor_id}/"): [Recipe(get("/doctors/{doctor}/"))],
    **{
        (method, "/doctors/{doctor_id}/"): [
            Recipe(form("/doctors/{doctor}/", fee="55"), owner=doctor_a)
        ]
        for method in ("PUT", "PATCH")
    },
    ("DELETE", "/doctors/{doctor_id}/"): [
        Recipe(get("/doctors/{doctor}/"), owner=doctor_a, fresh_world=True)
    ],
    **{("GET", path): [Recipe(get(path))] for path in ("/designations/", "/specialisations/")},
    **{("POST", path): [Recipe(named(path))] for path in ("/designations/", "/specialisations/")},
    ("GET", "/available-time/"): [Recipe(get("/available-time/"))],
    ("POST", "/available-time/"): [
        Recipe(lambda world, role: Request("/available-time/", json={"time": unique("Mon")}))
    ],
    ("GET", "/services/"): [Recipe(get("/services/"))],
    ("POST", "/services/"): [
        Recipe(lambda world, role: Request("/services/", data={"name": unique("Scan")}))
    ],
    ("GET", "/services/{service_id}/"): [Recipe(get("/services/{service}/"))],
    **{
        (method, "/services/{service_id}/"): [
            Recipe(form("/services/{service}/", description="New"))
        ]
        for method in ("PUT", "PATCH")
    },
    ("DELETE", "/services/{service_id}/"): [
        Recipe(fresh("/services/{id}/", lambda world: world.new_service()))
    ],
    # hospital API: reviews, appointments, contacts
    ("GET", "/reviews/"): [Recipe(get("/reviews/"))],
    ("POST", "/reviews/"): [
        Recipe(body("/reviews/", lambda w: {"doctor": w.doctor_a, "rating": 4}), owner=own)
    ],
    ("GET", "/reviews/{review_id}/"): [Recipe(get("/reviews/{review}/"))],
    **{
        (method, "/reviews/{review_id}/"): [
            Recipe(
                body("/reviews/{review}/", lambda w: {"doctor": w.doctor_a, "rating": 3}),
                owner=lambda world, role: Owner(patient_id=world.patient_a.id),
            )
        ]
        for method in ("PUT", "PATCH")
    },
    ("DELETE", "/reviews/{review_id}/"): [
        Recipe(
            fresh("/reviews/{id}/", lambda world: world.review_by_a()),
            owner=lambda world, role: Owner(patient_id=world.patient_a.id),
        )
    ],
    ("GET", "/appointments/"): [Recipe(get("/appointments/"))],
    ("POST", "/appointments/"): [
        Recipe(
            body("/appointments/", lambda w: {"doctor": w.doctor_a, "patient": w.patient_a.id}),
            owner=appointment_a,
        )
    ],
    ("GET", "/appointments/{appointment_id}/"): [
        Recipe(booking_path("/appointments/{id}/"), owner=appointment_a)
    ],
    ("PUT", "/appointments/{appointment_id}/"): [
        Recipe(
            request_path("/appointments/{id}/", lambda w: {"doctor": w.doctor_a}),
            owner=appointment_a,
        )
    ],
    ("PATCH", "/appointments/{appointment_id}/"): [
        Recipe(request_path("/appointments/{id}/", lambda w: {}), owner=appointment_a)
    ],
    ("DELETE", "/appointments/{appointment_id}/"): [
        Recipe(booking_path("/appointments/{id}/"), owner=appointment_a)
    ],
    ("GET", "/contacts/"): [Recipe(get("/contacts/"))],
    ("POST", "/contacts/"): [
        Recipe(
            body("/contacts/", lambda w: {"name": "Vi", "phone": "0700 111 000", "massage": "Hi"})
        )
    ],
    ("GET", "/contacts/{contact_id}/"): [Recipe(get("/contacts/{contact}/"))],
    ("PUT", "/contacts/{contact_id}/"): [
        Recipe(
            body(
                "/contacts/{contact}/",
                lambda w: {"name": "Vi", "phone": "0700 111 000", "massage": "Called back"},
            )
        )
    ],
    ("PATCH", "/contacts/{contact_id}/"): [
        Recipe(body("/contacts/{contact}/", lambda w: {"massage": "Handled"}))
    ],
    ("DELETE", "/contacts/{contact_id}/"): [
        Recipe(fresh("/contacts/{id}/", lambda world: world.new_contact()))
    ],
    # desk API
    ("GET", "/desk/v1/session"): [Recipe(get("/desk/v1/session"), owner=own)],
    ("POST", "/desk/v1/session"): [Recipe(credentials("/desk/v1/session"), login="desk")],
    ("POST", "/desk/v1/session/refresh"): [
        Recipe(fresh_tokens("/desk/v1/session/refresh"), login="any")
    ],
    ("POST", "/desk/v1/session/logout"): [
        Recipe(fresh_tokens("/desk/v1/session/logout"), login="any")
    ],
    ("GET", "/desk/v1/patients"): [Recipe(get("/desk/v1/patients", q="a"))],
    ("POST", "/desk/v1/patients"): [
        Recipe(body("/desk/v1/patients", lambda w: {"full_name": "Walk In"}), owner=nobody)
    ],
    ("GET", "/desk/v1/patients/{patient_id}"): [
        Recipe(get("/desk/v1/patients/{patient}"), owner=patient_a)
    ],
    ("PUT", "/desk/v1/patients/{patient_id}"): [
        Recipe(body("/desk/v1/patients/{patient}", patient_form), owner=patient_a)
    ],
    ("POST", "/desk/v1/patients/duplicates"): [
        Recipe(body("/desk/v1/patients/duplicates", lambda w: {"full_name": "X"}), owner=nobody)
    ],
    ("GET", "/desk/v1/patients/{patient_id}/history"): [
        Recipe(
            get("/desk/v1/patients/{patient}/history"),
            owner=patient_a,
            entry=(Kind.PATIENT, Action.READ),
        )
    ],
    **{
        ("GET", f"/desk/v1/{name}"): [Recipe(get(f"/desk/v1/{name}"))]
        for name in ("specialisations", "designations", "doctors")
    },
    **{
        ("POST", f"/desk/v1/{name}"): [Recipe(named(f"/desk/v1/{name}"))]
        for name in ("specialisations", "designations")
    },
    ("GET", "/desk/v1/doctors/{doctor_id}"): [Recipe(get("/desk/v1/doctors/{doctor}"))],
    ("PUT", "/desk/v1/doctors/{doctor_id}/working-hours"): [
        Recipe(
            body(
                "/desk/v1/doctors/{doctor}/working-hours",
                lambda w: [{"weekday": 0, "start": "09:00", "end": "10:00"}],
            ),
            owner=doctor_a,
            fresh_world=True,
        )
    ],
    ("GET", "/desk/v1/doctors/{doctor_id}/day"): [
        Recipe(
            lambda world, role: Request(
                f"/desk/v1/doctors/{world.doctor_a}/day",
                params={"day": world.clinic.today().isoformat()},
            ),
            owner=doctor_a,
        )
    ],
    ("GET", "/desk/v1/day"): [
        Recipe(
            lambda world, role: Request(
                "/desk/v1/day", params={"day": world.clinic.today().isoformat()}
            )
        )
    ],
    ("GET", "/desk/v1/free-slots"): [
        Recipe(
            lambda world, role: Request(
                "/desk/v1/free-slots", params={"speciality": world.speciality, **_window(world)}
            )
        )
    ],
    ("GET", "/desk/v1/calendar"): [
        Recipe(
            lambda world, role: Request(
                "/desk/v1/calendar", params={"doctor_id": world.doctor_a, **_window(world)}
            ),
            owner=doctor_a,
        )
    ],
    ("POST", "/desk/v1/holds"): [Recipe(desk_hold, owner=nobody)],
    ("POST", "/desk/v1/holds/{slot_id}/release"): [Recipe(release_desk_hold, owner=held_by_desk)],
    ("POST", "/desk/v1/holds/{slot_id}/take-over"): [Recipe(take_over_a_hold)],
    ("POST", "/desk/v1/appointments"): [Recipe(desk_confirm, owner=appointment_a)],
    ("POST", "/desk/v1/appointments/{appointment_id}/reschedule"): [
        Recipe(move_booking("/desk/v1/appointments/{id}/reschedule"), owner=appointment_a)
    ],
    ("POST", "/desk/v1/appointments/{appointment_id}/cancel"): [
        Recipe(booking_path("/desk/v1/appointments/{id}/cancel"), owner=appointment_a)
    ],
    ("POST", "/desk/v1/appointments/{appointment_id}/status"): [
        Recipe(
            booking_path("/desk/v1/appointments/{id}/status", {"status": "arrived"}),
            owner=appointment_a,
        )
    ],
    ("GET", "/desk/v1/requests"): [Recipe(get("/desk/v1/requests"))],
    ("POST", "/desk/v1/requests/{appointment_id}/assign"): [
        Recipe(
            request_path(
                "/desk/v1/requests/{id}/assign", lambda w: {"slot_id": w.free_slot(w.doctor_a)}
            )
        )
    ],
    ("POST", "/desk/v1/requests/{appointment_id}/decline"): [
        Recipe(request_path("/desk/v1/requests/{id}/decline", lambda w: {"reason": "Full"}))
    ],
    ("GET", "/desk/v1/events"): [Recipe(get("/desk/v1/events"), stream=True)],
    # desk API: the admin area and one's own password
    ("PUT", "/desk/v1/session/password"): [
        Recipe(
            lambda world, role: Request("/desk/v1/session/password", json=WRONG_CURRENT),
            owner=own,
            business={role: (400,) for role in DESK_PEOPLE},
        )
    ],
    ("GET", "/desk/v1/staff"): [Recipe(get("/desk/v1/staff"))],
    ("POST", "/desk/v1/staff"): [
        Recipe(
            lambda world, role: Request(
                "/desk/v1/staff",
                json={
                    "username": factories.unique("new"),
                    "role": "receptionist",
                    "first_name": "Nia",
                },
            )
        )
    ],
    **{
        ("POST", f"/desk/v1/staff/{{user_id}}/{verb}"): [
            Recipe(fresh(f"/desk/v1/staff/{{id}}/{verb}", new_staff))
        ]
        for verb in ("unlock", "password-reset")
    },
    ("PUT", "/desk/v1/staff/{user_id}/active"): [
        Recipe(fresh("/desk/v1/staff/{id}/active", new_staff, json={"active": False}))
    ],
    ("GET", "/desk/v1/audit"): [Recipe(get("/desk/v1/audit", action="create"))],
    ("GET", "/desk/v1/clinic-settings"): [Recipe(get("/desk/v1/clinic-settings"))],
    ("GET", "/desk/v1/reports"): [
        Recipe(get("/desk/v1/reports", first="2026-12-01", last="2026-12-31", group="doctor"))
    ],
    ("PUT", "/desk/v1/clinic-settings"): [
        Recipe(body("/desk/v1/clinic-settings", clinic_settings_body))
    ],
    ("GET", "/desk/v1/time-blocks"): [Recipe(get("/desk/v1/time-blocks"))],
    ("POST", "/desk/v1/time-blocks"): [Recipe(body("/desk/v1/time-blocks", far_block_body))],
    ("DELETE", "/desk/v1/time-blocks/{block_id}"): [
        Recipe(fresh("/desk/v1/time-blocks/{id}", far_block))
    ],
    ("GET", "/desk/v1/affected-appointments"): [Recipe(get("/desk/v1/affected-appointments"))],
    ("POST", "/desk/v1/affected-appointments/move"): [
        Recipe(
            lambda world, role: Request(
                "/desk/v1/affected-appointments/move",
                json={"appointment_ids": [world.booking_for_a()]},
            ),
            owner=appointment_a,
        )
    ],
    ("POST", "/desk/v1/appointments/{appointment_id}/cancel-with-reason"): [
        Recipe(
            booking_path("/desk/v1/appointments/{id}/cancel-with-reason", {"reason": "Leave"}),
            owner=appointment_a,
        )
    ],
    # desk API: the admin area's doctors, catalogue and contact inbox
    ("GET", "/desk/v1/admin/doctors"): [Recipe(get("/desk/v1/admin/doctors"))],
    ("POST", "/desk/v1/admin/doctors"): [
        Recipe(body("/desk/v1/admin/doctors", lambda w: {"first_name": unique("Doc")}))
    ],
    ("GET", "/desk/v1/admin/doctors/{doctor_id}"): [Recipe(get("/desk/v1/admin/doctors/{doctor}"))],
    ("PUT", "/desk/v1/admin/doctors/{doctor_id}"): [
        Recipe(body("/desk/v1/admin/doctors/{doctor}", doctor_form_of_a))
    ],
    ("PUT", "/desk/v1/admin/doctors/{doctor_id}/picture"): [Recipe(doctor_picture)],
    ("POST", "/desk/v1/admin/doctors/{doctor_id}/deactivate"): [Recipe(deactivate_a_new_doctor)],
    ("POST", "/desk/v1/admin/doctors/{doctor_id}/reactivate"): [
        Recipe(body("/desk/v1/admin/doctors/{doctor}/reactivate", lambda w: None))
    ],
    ("GET", "/desk/v1/admin/doctors/{doctor_id}/to-rebook"): [
        Recipe(get("/desk/v1/admin/doctors/{doctor}/to-rebook"))
    ],
    ("GET", "/desk/v1/catalogue/{kind}"): [
        Recipe(get(f"/desk/v1/catalogue/{kind}")) for kind in ("specialisations", "services")
    ],
    ("POST", "/desk/v1/catalogue/{kind}"): [
        Recipe(body("/desk/v1/catalogue/designations", lambda w: {"name": unique("Entry")}))
    ],
    ("PUT", "/desk/v1/catalogue/{kind}/{item_id}"): [Recipe(rename_a_new_designation)],
    ("DELETE", "/desk/v1/catalogue/{kind}/{item_id}"): [Recipe(delete_a_new_designation)],
    ("PUT", "/desk/v1/catalogue/services/{item_id}/image"): [Recipe(service_image)],
    ("GET", "/desk/v1/contacts"): [Recipe(get("/desk/v1/contacts", handled="false"))],
    ("POST", "/desk/v1/contacts/{contact_id}/handled"): [
        Recipe(body("/desk/v1/contacts/{contact}/handled", lambda w: {"handled": True}))
    ],
    # --- reminders ---
    ("GET", "/desk/v1/patients/{patient_id}/messages"): [
        Recipe(get("/desk/v1/patients/{patient}/messages"), owner=patient_a)
    ],
}


# --- waitlist ----------------------------------------------------------------------------------


def _waitlist_entry(world: World, patient_id: int) -> int:
    today = world.clinic.today()
    form = WaitlistForm(patient_id, today, today + timedelta(days=28), doctor_id=world.doctor_a)
    return waitlist.add_entry(world.clinic, SYSTEM, form).id


def waitlist_entry_for_a(world: World) -> int:
    return _waitlist_entry(world, world.patient_a.id)


def waitlist_body(world: World) -> dict[str, Any]:
    today = world.clinic.today()
    return {
        "patient_id": world.patient_a.id,
        "first_day": today.isoformat(),
        "last_day": (today + timedelta(days=7)).isoformat(),
        "doctor_id": world.doctor_a,
        "preferred_times": "mornings",
        "note": "alma-secret-note",
    }


def take_waitlist_offer(world: World, role: str) -> Request:
    entry = _waitlist_entry(world, world.fresh_patient().id)
    slot = world.free_slot(world.doctor_a)
    return Request(f"/desk/v1/waitlist/{entry}/take", json={"slot_id": slot})


def fill_from_waitlist(world: World, role: str) -> Request:
    holder = role if role in ("receptionist", "admin") else "receptionist"
    entry = _waitlist_entry(world, world.fresh_patient().id)
    slot = world.free_slot(world.doctor_a)
    hold = waitlist.take_offer(world.clinic, world.actor(holder), entry, slot)
    return Request(f"/desk/v1/waitlist/{entry}/fill", json={"slot_id": slot, "token": hold.token})


WAITLIST_RECIPES: dict[tuple[str, str], list[Recipe]] = {
    ("GET", "/desk/v1/waitlist"): [Recipe(get("/desk/v1/waitlist", status="all"))],
    ("POST", "/desk/v1/waitlist"): [
        Recipe(body("/desk/v1/waitlist", waitlist_body), owner=patient_a)
    ],
    ("POST", "/desk/v1/waitlist/{entry_id}/withdraw"): [
        Recipe(fresh("/desk/v1/waitlist/{id}/withdraw", waitlist_entry_for_a), owner=patient_a)
    ],
    ("GET", "/desk/v1/waitlist/offers"): [
        Recipe(
            lambda world, role: Request(
                "/desk/v1/waitlist/offers", params={"doctor_id": world.doctor_a, **_window(world)}
            )
        )
    ],
    ("GET", "/desk/v1/waitlist/offers/{slot_id}"): [
        Recipe(
            lambda world, role: Request(
                f"/desk/v1/waitlist/offers/{world.free_slot(world.doctor_a)}"
            )
        )
    ],
    ("POST", "/desk/v1/waitlist/{entry_id}/take"): [Recipe(take_waitlist_offer)],
    ("POST", "/desk/v1/waitlist/{entry_id}/fill"): [Recipe(fill_from_waitlist)],
}
RECIPES.update(WAITLIST_RECIPES)


# --- the matrix --------------------------------------------------------------------------------


def expected_allowed(world: World, role: str, path: str, access: str, recipe: Recipe) -> bool:
    actor = world.actor(role)
    if recipe.login is not None:
        if world.people[role].user is None:
            return False  # no account: no credentials or tokens to show
        return recipe.login == "any" or policy.allows(actor, Kind.DESK, Action.USE)
    if not openapi.allowed(actor, path, access) or not recipe.needs(actor):
        return False
    entry = recipe.entry or openapi.parse_access(access)
    if entry is None:
        return True
    return policy.allows(actor, *entry, recipe.owner(world, role))


def call(world: World, method: str, request: Request, role: str, stream: bool) -> httpx.Response:
    token = world.people[role].token if request.token is True else request.token
    with world.api.client(token or None) as client:
        if stream:
            with client.stream(method, request.path, params=request.params, timeout=10) as answer:
                answer.read() if answer.status_code != 200 else next(answer.iter_bytes())
                return answer
        return client.request(
            method,
            request.path,
            params=request.params,
            json=request.json,
            data=request.data,
            files=request.files,
        )


def foreign_secrets(world: World, role: str) -> set[str]:
    """What this caller must never be shown: the other patient's secrets."""
    if role in ("patient", "doctor"):
        return world.secrets["other_patient"]
    if role in ("other_patient", "other_doctor"):
        return world.secrets["patient"]
    return set()


@pytest.mark.slow
def test_every_operation_answers_every_role_as_the_policy_says(
    serve: Callable[..., LiveServer],
) -> None:
    api = serve(max_holds_per_patient=1000, max_online_bookings_per_patient=1000)
    # Building the document takes a second or more on a busy machine (httpx waits 5 s).
    schema = httpx.get(f"{api.url}/openapi.json", timeout=60).json()
    operations = {
        (method.upper(), path): operation
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
    }
    assert set(operations) == set(RECIPES), (
        "operations without a recipe (or recipes without an operation): "
        f"{sorted(set(operations) ^ set(RECIPES))}"
    )
    world = build_world(api)
    problems: list[str] = []
    calls = 0
    for (method, path), operation in sorted(operations.items()):
        access = operation.get(openapi.ACCESS_KEY)
        if access is None:
            problems.append(f"{method} {path}: no access entry (x-access) in the policy")
            continue
        for recipe in RECIPES[(method, path)]:
            for role in ROLES:
                target_world = world
                allowed = expected_allowed(world, role, path, access, recipe)
                if recipe.fresh_world and allowed:
                    # It will destroy what later calls need: a world of its own.
                    target_world = build_world(api)
                    allowed = expected_allowed(target_world, role, path, access, recipe)
                request = recipe.call(target_world, role)
                answer = call(target_world, method, request, role, recipe.stream)
                calls += 1
                where = f"{method} {request.path} as {role}"
                status = answer.status_code
                if allowed:
                    ok = recipe.ok + recipe.business.get(role, ())
                    if status not in ok:
                        problems.append(f"{where}: allowed, got {status} {answer.text[:160]}")
                elif status not in ((401,) if role == "anonymous" else (403, 404)):
                    expected = "401" if role == "anonymous" else "403/404"
                    problems.append(f"{where}: refused, expected {expected}, got {status}")
                text = "" if recipe.stream else answer.text
                leaked = [
                    secret for secret in foreign_secrets(target_world, role) if secret in text
                ]
                if leaked:
                    problems.append(f"{where}: shows another patient's {leaked}")
    assert not problems, f"{len(problems)} of {calls} calls:\n" + "\n".join(problems)
    assert calls > 700


@pytest.mark.slow
def test_a_kept_appointment_list_answers_every_role_as_the_policy_says(
    serve: Callable[..., LiveServer],
) -> None:
    """`GET /appointments` again and again, the roles interleaved: once a patient's list is
    kept (api/patient_answers.py, answered before the router by api/fast_path.py), every
    role still gets what the policy says, the same answer each time, and no patient or
    doctor another patient's secrets."""
    api = serve(answer_cache_seconds=60)
    schema = httpx.get(f"{api.url}/openapi.json", timeout=60).json()
    access = schema["paths"]["/appointments"]["get"][openapi.ACCESS_KEY]
    world = build_world(api)
    (recipe,) = RECIPES[("GET", "/appointments")]
    first: dict[str, tuple[int, str]] = {}
    problems: list[str] = []
    for turn in range(3):
        for role in ROLES if turn % 2 == 0 else ROLES[::-1]:
            answer = call(world, "GET", recipe.call(world, role), role, stream=False)
            where = f"GET /appointments as {role}, read {turn + 1}"
            if expected_allowed(world, role, "/appointments", access, recipe):
                if answer.status_code != 200:
                    problems.append(f"{where}: allowed, got {answer.status_code}")
            elif answer.status_code not in ((401,) if role == "anonymous" else (403, 404)):
                problems.append(f"{where}: refused, got {answer.status_code}")
            if first.setdefault(role, (answer.status_code, answer.text)) != (
                answer.status_code,
                answer.text,
            ):
                problems.append(f"{where}: not the first read's answer")
            leaked = [s for s in foreign_secrets(world, role) if s in answer.text]
            if leaked:
                problems.append(f"{where}: shows another patient's {leaked}")
    assert not problems, "\n".join(problems)
    assert first["patient"][1] != first["other_patient"][1]
