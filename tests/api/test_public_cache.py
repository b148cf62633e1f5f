"""The public's catalogue reads are kept encoded (api/answer_cache.py), yet an admin's change
on another desk is on the next public read: every doctor or catalogue change publishes an
event that empties the kept answers (the cache age here is a minute: only the event can
end them). The request budget is counted where the clinic's throttle counts it."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

from hms_desktop.domain.enums import Role
from hms_desktop.services import accounts, catalogue, doctor_admin, doctors
from hms_desktop.services.catalogue import NamedList
from hms_desktop.services.clinic import Clinic
from tests import factories
from tests.api.conftest import LiveServer

LONG_AGE = {"answer_cache_seconds": 60}


def _until(read: Callable[[], Any], wanted: Callable[[Any], bool], what: str) -> None:
    """`read()` until it is `wanted` (a change event reaches the server's process at once on
    one store, through Redis or the database file on the other)."""
    deadline = time.monotonic() + 5
    while not wanted(read()):
        assert time.monotonic() < deadline, f"{what}: the kept answer outlived the change"
        time.sleep(0.02)


def _json(client: httpx.Client, path: str) -> Any:
    response = client.get(path)
    assert response.status_code == 200, response.text
    return response.json()


def test_an_admin_change_to_a_doctor_reaches_the_public_reads(
    serve: Callable[..., LiveServer], open_store: Callable[..., Clinic]
) -> None:
    api = serve(**LONG_AGE)
    cardio = factories.speciality(api.clinic, "Cardiology")
    neuro = factories.speciality(api.clinic, "Neurology")
    doctor = api.doctor(specialisation_ids=[cardio], fee=50)
    other_desk = open_store(**LONG_AGE)
    _, admin = factories.staff(other_desk, Role.ADMIN)
    profile_path = f"/doctors/{doctor.doctor_id}"

    with api.client() as public:
        assert _json(public, profile_path)["fees"] == 50
        assert _json(public, profile_path)["fees"] == 50  # kept
        listed = {row["doctor_id"]: row for row in _json(public, "/doctors")}
        assert listed[doctor.doctor_id]["speciality"] == "Cardiology"

        doctors.update_doctor(
            other_desk, admin, doctor.doctor_id, fee=70, specialisation_ids=[neuro]
        )
        _until(lambda: _json(public, profile_path)["fees"], lambda fee: fee == 70, "fee")
        _until(
            lambda: {row["doctor_id"]: row["speciality"] for row in _json(public, "/doctors")},
            lambda listed: listed[doctor.doctor_id] == "Neurology",
            "speciality",
        )


def test_an_admin_change_to_the_catalogue_reaches_the_public_reads(
    serve: Callable[..., LiveServer], open_store: Callable[..., Clinic]
) -> None:
    api = serve(**LONG_AGE)
    factories.speciality(api.clinic, "Cardiology")
    other_desk = open_store(**LONG_AGE)
    _, admin = factories.staff(other_desk, Role.ADMIN)
    _, patient = api.patient_user()

    def names(client: httpx.Client, path: str) -> set[str]:
        return {row["name"] for row in _json(client, path)}

    with api.client() as public, api.client(cookie=api.session_for(patient)) as own:
        for client in (public, own):
            assert names(client, "/specialisations/") == {"Cardiology"}
            assert names(client, "/designations/") == set()
            assert names(client, "/services/") == set()

        catalogue.create_named(other_desk, admin, NamedList.SPECIALISATIONS, "Dermatology")
        catalogue.create_named(other_desk, admin, NamedList.DESIGNATIONS, "Consultant")
        catalogue.save_service(other_desk, admin, name="X-ray", description="Chest")
        for client in (public, own):
            _until(
                lambda c=client: names(c, "/specialisations/"),
                lambda found: found == {"Cardiology", "Dermatology"},
                "specialisations",
            )
            _until(
                lambda c=client: names(c, "/designations/"),
                lambda found: found == {"Consultant"},
                "designations",
            )
            _until(
                lambda c=client: names(c, "/services/"),
                lambda found: found == {"X-ray"},
                "services",
            )


def test_a_deactivated_doctor_is_kept_from_the_public_not_from_the_desk(
    serve: Callable[..., LiveServer],
) -> None:
    # The desk's view of the roster is never a kept public answer (nor the other way round).
    api = serve(**LONG_AGE)
    doctor = api.doctor()
    admin = api.staff(Role.ADMIN)
    with api.client() as public:
        assert _json(public, f"/doctors/{doctor.doctor_id}")["fees"] == 50
    doctor_admin.deactivate_doctor(api.clinic, accounts.actor_for(admin), doctor.doctor_id)
    with api.client() as public, api.client(api.token_for(admin)) as desk:
        _until(
            lambda: public.get(f"/doctors/{doctor.doctor_id}").status_code,
            lambda status: status == 404,
            "deactivated doctor",
        )
        assert desk.get(f"/doctors/{doctor.doctor_id}").status_code == 200


def test_the_request_budget_is_one_count_with_the_clinics_throttle(
    serve: Callable[..., LiveServer],
) -> None:
    # What the server counted, the clinic's own throttle (another process, another host)
    # sees, and the other way round: three reads here, two hits elsewhere, the sixth is 429.
    api = serve(rate_limit_default="5/minute")
    limit = api.clinic.throttle.parse("5/minute")
    with api.client() as public:
        for _ in range(3):
            assert public.get("/specialisations/").status_code == 200
        assert api.clinic.throttle.hit(limit, "default", "addr:127.0.0.1")
        assert api.clinic.throttle.hit(limit, "default", "addr:127.0.0.1")
        refused = public.get("/specialisations/")
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
