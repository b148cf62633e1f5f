"""Every abstract `Backend` method has a remote implementation of its own, and what that
implementation sends is a route the desk API really has (method and path).

The remote desk's HTTP goes to a mock transport that matches each request against the
routes of the real application and answers with a desk error, so each method is called
without a database; the contract suite then checks that the routes do what the methods
promise."""

from __future__ import annotations

import contextlib
import inspect
import re
import typing
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest

import hms_desktop
from hms_desktop.api.app import create_app
from hms_desktop.client import RemoteBackend
from hms_desktop.config import Settings
from hms_desktop.domain.admin import AuditFilter, ClinicSettings, StaffForm
from hms_desktop.domain.doctor_records import CatalogueKind, DoctorForm
from hms_desktop.domain.enums import AppointmentStatus, AppointmentType, Role
from hms_desktop.domain.errors import DomainError
from hms_desktop.domain.models import PatientForm, TimeBlockForm, WorkingHours
from hms_desktop.domain.reports import ReportGroup
from hms_desktop.domain.waitlist import WaitlistForm, WaitlistStatus
from hms_desktop.services.backend import Backend
from hms_desktop.services.clinic import open_clinic
from hms_desktop.services.local import LocalBackend
from tests import stores
from tests.stores import StoreSpec

# Members that are the desk's own state, answered without asking the server.
LOCAL_ONLY = {"current_user", "description", "demo_login_hint", "close"}
# Desk routes no desk method needs, each with the reason it exists.
FOR_OTHERS = {"GET /desk/v1/session": "who a token belongs to, for scripts and IT's checks"}

SAMPLES: dict[Any, Any] = {
    int: 7,
    str: "x",
    datetime: datetime(2026, 12, 1, 9, tzinfo=UTC),
    date: date(2026, 12, 1),
    PatientForm: PatientForm(full_name="Ann Lee"),
    AppointmentType: AppointmentType.OFFLINE,
    AppointmentStatus: AppointmentStatus.COMPLETED,
    Sequence[int]: [7],
    Sequence[WorkingHours]: [],
    int | None: 7,
    bool: True,
    StaffForm: StaffForm("newdesk", Role.RECEPTIONIST, "Nia"),
    AuditFilter: AuditFilter(actor="admin"),
    ClinicSettings: ClinicSettings("Clinic", 28),
    TimeBlockForm: TimeBlockForm(7, date(2026, 12, 1), date(2026, 12, 1), "Annual leave"),
    bool | None: None,
    bytes: b"picture",
    str | None: "x",
    DoctorForm: DoctorForm(first_name="Ann"),
    CatalogueKind: CatalogueKind.SPECIALISATIONS,
    ReportGroup: ReportGroup.SPECIALITY,
    WaitlistForm: WaitlistForm(7, date(2026, 12, 1), date(2026, 12, 2), doctor_id=7),
    WaitlistStatus | None: WaitlistStatus.ACTIVE,
}


def _abstract_members() -> list[str]:
    return sorted(Backend.__abstractmethods__)


class Recorder:
    """An httpx transport standing in for the server: notes which desk route each request
    reaches, answers the version check, and refuses everything else as the desk API does."""

    def __init__(self, routes: list[tuple[re.Pattern[str], str, str]]) -> None:
        self.routes = routes
        self.reached: list[str] = []
        self.unknown: list[str] = []

    def route_of(self, request: httpx.Request) -> str | None:
        for pattern, path, method in self.routes:
            if method.upper() == request.method and pattern.match(request.url.path):
                return f"{request.method} {path}"
        return None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/version":
            return httpx.Response(200, json={"api_version": hms_desktop.API_VERSION})
        route = self.route_of(request)
        if route is None:
            self.unknown.append(f"{request.method} {request.url.path}")
            return httpx.Response(404, json={"error": "no such route", "kind": "not_found"})
        self.reached.append(route)
        if route.endswith("/events"):
            return httpx.Response(
                200, headers={"content-type": "text/event-stream"}, content=b": hello\n\n"
            )
        return httpx.Response(400, json={"error": "recorded", "kind": "validation"})


@pytest.fixture(scope="module")
def desk_routes(
    sqlite_templates: stores._SqliteTemplates,
) -> list[tuple[re.Pattern[str], str, str]]:
    """The operations the application documents (every desk route is documented: see
    test_desk.py), literal paths first: /patients/duplicates is not a patient's id. Read
    once for the module: building the document takes a second, and it is the same for
    every test (only the application's routes matter, not its store)."""
    spec = StoreSpec("sqlite", sqlite_templates.fresh(), "", "")
    clinic = open_clinic(spec.settings(), migrate=False)
    try:
        paths = create_app(clinic).openapi()["paths"]
    finally:
        clinic.close()
    return [
        (
            re.compile("^" + re.sub(r"\\{[^/]+?\\}", "[^/]+", re.escape(path)) + "$"),
            path,
            verb,
        )
        for path, operations in sorted(paths.items(), key=lambda item: item[0].count("{"))
        if path.startswith("/desk/v1")
        for verb in operations
    ]


@pytest.fixture
def recorder(
    desk_routes: list[tuple[re.Pattern[str], str, str]], monkeypatch: pytest.MonkeyPatch
) -> Recorder:
    recorder = Recorder(desk_routes)
    real_client = httpx.Client

    def client_through_recorder(*args: Any, **kwargs: Any) -> httpx.Client:
        kwargs["transport"] = httpx.MockTransport(recorder)
        return real_client(*args, **kwargs)

    # The desk's requests and its event stream alike go to the recorder.
    monkeypatch.setattr(httpx, "Client", client_through_recorder)
    return recorder


@pytest.fixture
def remote(recorder: Recorder) -> Iterator[RemoteBackend]:
    backend = RemoteBackend(Settings(mode="remote", api_url="http://clinic.test"), retries=0)
    yield backend
    backend.close()


def _sample_arguments(name: str) -> list[Any]:
    member = getattr(Backend, name)
    hints = typing.get_type_hints(member)
    arguments = []
    for parameter in list(inspect.signature(member).parameters.values())[1:]:
        if parameter.default is not inspect.Parameter.empty:
            continue
        kind = hints[parameter.name]
        if kind not in SAMPLES:
            raise AssertionError(f"no sample value for {name}({parameter.name}: {kind})")
        arguments.append(SAMPLES[kind])
    return arguments


def _call(remote: RemoteBackend, name: str) -> None:
    if name == "subscribe":
        remote.subscribe(lambda event: None).close()
        return
    if name == "logout":
        remote.transport._refresh = "refresh-token"  # logged in, as far as the desk knows
    # The recorder refuses every call: only the route it reached matters here.
    with contextlib.suppress(DomainError):
        getattr(remote, name)(*_sample_arguments(name))


@pytest.mark.parametrize("name", _abstract_members())
def test_every_backend_method_is_implemented_by_both_desks(name: str) -> None:
    for implementation in (LocalBackend, RemoteBackend):
        assert name in implementation.__dict__, f"{implementation.__name__} lacks {name}"


@pytest.mark.parametrize("name", sorted(set(_abstract_members()) - LOCAL_ONLY))
def test_every_remote_method_reaches_a_desk_route(
    name: str, remote: RemoteBackend, recorder: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(remote.transport, "access_token", lambda **_: "access-token")
    _call(remote, name)
    assert recorder.unknown == [], f"{name} asked for routes the desk API lacks"
    assert recorder.reached, f"{name} never reached the desk API"


def test_every_desk_route_serves_some_backend_method(
    remote: RemoteBackend, recorder: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The other direction: no desk route is left over from a method that is gone."""
    monkeypatch.setattr(remote.transport, "access_token", lambda **_: "access-token")
    for name in sorted(set(_abstract_members()) - LOCAL_ONLY):
        _call(remote, name)
    monkeypatch.undo()
    remote.transport._refresh = "refresh-token"
    with pytest.raises(DomainError):  # the transport renews its own access token
        remote.transport.access_token(force_refresh=True)
    declared = {f"{verb.upper()} {path}" for _, path, verb in recorder.routes}
    assert declared - set(recorder.reached) - set(FOR_OTHERS) == set()
