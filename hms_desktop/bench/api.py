"""`hms-desktop bench api`: the REST API under load, as a clinic's central server runs it,
beside the HTTP floor measured in the same run.

`hms-desktop serve --workers 2` in a subprocess on loopback, over a benchmark database of its
own on PostgreSQL and a Redis key prefix of its own, holding the demo clinic scaled to 500
doctors. First the booking flow (bench/api_booking: hold + confirm by 16 patients in process,
then over HTTP as fast as answered, then over HTTP paced at half the in-process rate); then
each read path: its answer is fetched from the server, and the
same load (`wrk -t2 -c16`, or threads without wrk) runs against the server and against a
bare Starlette app under the same uvicorn settings answering those exact bytes (bench/floor).
The ratio floor / project is what the project's own code costs per request.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import quote, urlencode

import httpx
from sqlalchemy import select, text

from hms_desktop.bench import api_booking, traffic
from hms_desktop.bench.api_booking import Flow
from hms_desktop.bench.common import (
    Report,
    Table,
    Target,
    bench_database,
    bench_redis,
    latency_summary,
    served,
    server_settings,
    server_versions,
)
from hms_desktop.bench.common import _free_port as free_port
from hms_desktop.bench.floor import served_floor
from hms_desktop.bench.raw_http import Connection
from hms_desktop.config import Settings
from hms_desktop.domain.enums import Role
from hms_desktop.domain.models import SYSTEM
from hms_desktop.domain.schedule import iso_millis
from hms_desktop.services import accounts, catalogue, doctors
from hms_desktop.services.catalogue import NamedList
from hms_desktop.services.clinic import Clinic, open_clinic
from hms_desktop.services.demo import HOUR_PATTERNS, load_demo_clinic
from hms_desktop.store.tables import Patient

log = logging.getLogger(__name__)

DOCTORS = (500, 60)  # full run, quick run
CLIENTS = 16
WORKERS = 2
SECONDS = (10, 2)  # per read measurement, project and floor each
BOOKINGS_PER_CLIENT = (60, 8)
WARM_UP_SECONDS = 1
HORIZON_DAYS = 14
BOOKING_TARGET_P99_MS = 50.0
# Over HTTP at least this share of the in-process bookings per second (issue 14).
BOOKING_TARGET_SHARE = 0.5
# floor / project at most (issue 14): public catalogue reads, the version, a patient's read.
CATALOGUE_RATIO = 10.0
VERSION_RATIO = 1.5
PATIENT_RATIO = 15.0


# --- the clinic ------------------------------------------------------------------------------


def _scale_doctors(clinic: Clinic, total: int) -> int:
    """Add doctors to the demo clinic until it has `total`, spread over its specialities."""
    specialities = [
        item.id for item in catalogue.list_named(clinic, SYSTEM, NamedList.SPECIALISATIONS)
    ]
    existing = len(doctors.list_doctors(clinic, SYSTEM))
    for index in range(existing, total):
        user = accounts.create_user(
            clinic,
            SYSTEM,
            username=f"bench.doctor.{index}",
            role=Role.DOCTOR,
            password=None,
            first_name="Bench",
            last_name=f"Doctor {index}",
        )
        assert user.doctor_id is not None
        doctors.update_doctor(
            clinic,
            SYSTEM,
            user.doctor_id,
            fee=50 + index % 7 * 10,
            specialisation_ids=[specialities[index % len(specialities)]],
        )
        doctors.set_working_hours(
            clinic, SYSTEM, user.doctor_id, HOUR_PATTERNS[index % len(HOUR_PATTERNS)]
        )
    return total


def _patient_sessions(clinic: Clinic, count: int) -> list[str]:
    """Session cookies of `count` demo patients (issued directly: no password hashing)."""
    with clinic.db.read() as session:
        user_ids = list(session.scalars(select(Patient.user_id).order_by(Patient.id).limit(count)))
    return [
        accounts.issue_session_token(clinic, accounts.get_user(clinic, SYSTEM, user_id))
        for user_id in user_ids
    ]


# --- load ------------------------------------------------------------------------------------


def expect(response: httpx.Response, status: int) -> httpx.Response:
    if response.status_code != status:
        raise RuntimeError(
            f"{response.request.method} {response.request.url.path}: "
            f"{response.status_code} {response.text[:200]}"
        )
    return response


def _clients(url: str, sessions: list[str]) -> list[Connection]:
    return [Connection(url, f"session={token}") for token in sessions]


@dataclass(frozen=True)
class Read:
    """One measured GET: its label in the report, its target (path?query), the headers its
    caller sends, and the largest floor / project ratio the issue allows."""

    label: str
    target: str
    ratio_target: float
    headers: tuple[tuple[str, str], ...] = ()


def _reads(clinic: Clinic, session: str) -> list[Read]:
    now = clinic.now()
    window = urlencode(
        {"startTime": iso_millis(now), "endTime": iso_millis(now + timedelta(days=7))}
    )
    speciality = catalogue.list_named(clinic, SYSTEM, NamedList.SPECIALISATIONS)[0].name
    doctor_id = doctors.list_doctors(clinic, SYSTEM)[0].id
    return [
        Read("GET /api/version", "/api/version", VERSION_RATIO),
        Read("GET /doctors", "/doctors", CATALOGUE_RATIO),
        Read("GET /doctors/{id}", f"/doctors/{doctor_id}", CATALOGUE_RATIO),
        Read(
            "GET /doctors/specialities/{name} (one week)",
            f"/doctors/specialities/{quote(speciality)}?{window}",
            CATALOGUE_RATIO,
        ),
        Read("GET /specialisations/", "/specialisations/", CATALOGUE_RATIO),
        Read("GET /designations/", "/designations/", CATALOGUE_RATIO),
        Read("GET /services/", "/services/", CATALOGUE_RATIO),
        Read(
            "GET /appointments (a patient's)",
            "/appointments",
            PATIENT_RATIO,
            (("Cookie", f"session={session}"),),
        ),
    ]


@dataclass(frozen=True)
class ReadResult:
    read: Read
    size: int
    project: traffic.Load
    floor: traffic.Load

    @property
    def ratio(self) -> float:
        return round(self.floor.requests_per_second / max(self.project.requests_per_second, 0.1), 2)


def _measure_reads(api_url: str, reads: list[Read], seconds: int) -> list[ReadResult]:
    """Each read's answer fetched from the server, then the same load against the server
    and against the floor serving those bytes, one path after the other."""
    answers: dict[str, tuple[int, bytes]] = {}
    for read in reads:
        response = expect(httpx.get(api_url + read.target, headers=dict(read.headers)), 200)
        answers[read.target] = (response.status_code, response.content)
    results = []
    with served_floor(answers, WORKERS, free_port()) as floor_url:
        for read in reads:
            headers = dict(read.headers)
            measured = []
            for base in (api_url, floor_url):
                traffic.measure(base + read.target, WARM_UP_SECONDS, CLIENTS, headers)
                measured.append(traffic.measure(base + read.target, seconds, CLIENTS, headers))
            results.append(ReadResult(read, len(answers[read.target][1]), *measured))
    return results


def _booking_slots(clinic: Clinic, per_client: int) -> list[list[list[int]]]:
    """Three sets (in process, closed loop, paced) of each client's own free slots, spread
    over doctors and days."""
    now = clinic.now()
    free = doctors.free_slots(
        clinic,
        SYSTEM,
        [item.id for item in doctors.list_doctors(clinic, SYSTEM)],
        now + timedelta(hours=1),
        now + timedelta(days=HORIZON_DAYS),
    )
    needed = 3 * CLIENTS * per_client
    if len(free) < needed:
        raise RuntimeError("not enough free slots for the booking flow")
    chosen = [slot.id for slot in free[:: max(1, len(free) // needed)]][:needed]
    return [[chosen[run::3][i::CLIENTS] for i in range(CLIENTS)] for run in range(3)]


def run(settings: Settings, *, quick: bool = False) -> Report:
    logging.getLogger("httpx").setLevel(logging.WARNING)
    pick = 1 if quick else 0
    with bench_database("api") as url, bench_redis("api") as (redis_url, prefix):
        settings = server_settings(
            settings, url, redis_url, prefix, booking_horizon_days=HORIZON_DAYS
        )
        clinic = open_clinic(settings)
        try:
            loaded_at = time.perf_counter()
            load_demo_clinic(clinic)
            doctor_count = _scale_doctors(clinic, DOCTORS[pick])
            with clinic.db.transaction() as session:
                session.execute(text("ANALYZE"))
            log.info("clinic loaded in %.1f s", time.perf_counter() - loaded_at)
            # Other work on the machine shares its cores with the server: say how busy it was.
            average = ", ".join(f"{value:.1f}" for value in os.getloadavg())
            setup = f"{server_versions(clinic.db.writer, redis_url)}; load average {average}"
            # Each booking measurement by patients of its own (see bench/api_booking).
            sessions = _patient_sessions(clinic, 3 * CLIENTS)
            local, closed, paced = (sessions[run::3] for run in range(3))
            patients = [accounts.verify_token(clinic, token) for token in local]
            slots = _booking_slots(clinic, BOOKINGS_PER_CLIENT[pick])
            reads = _reads(clinic, closed[0])
            flows = {"in process": api_booking.in_process(clinic, patients, slots[0])}
            with served(settings, WORKERS) as api_url:
                clients = _clients(api_url, closed) + _clients(api_url, paced)
                try:
                    api_booking.warm_up(clients[:CLIENTS])
                    cpu_before = time.process_time()
                    flows["over HTTP"] = api_booking.closed_loop(clients[:CLIENTS], slots[1])
                    booking_cores = (time.process_time() - cpu_before) / flows["over HTTP"].elapsed
                    rate = flows["in process"].per_second * BOOKING_TARGET_SHARE
                    api_booking.warm_up(clients[CLIENTS:])
                    flows["over HTTP, paced"] = api_booking.paced(clients[CLIENTS:], slots[2], rate)
                finally:
                    for client in clients:
                        client.close()
                # After the bookings: the measured patient has appointments to read.
                results = _measure_reads(api_url, reads, SECONDS[pick])
        finally:
            clinic.close()
    return _report(results, flows, booking_cores, doctor_count, setup, quick)


def _report(
    results: list[ReadResult],
    flows: dict[str, Flow],
    booking_cores: float,
    doctor_count: int,
    setup: str,
    quick: bool,
) -> Report:
    generator = traffic.generator()
    how = (
        f"wrk -t{traffic.WRK_THREADS} -c{CLIENTS}"
        if generator == "wrk"
        else f"{CLIENTS} Python threads (wrk is not installed: these saturate before the server)"
    )
    report = Report(
        name="api",
        setup=(
            f"`hms-desktop serve --workers {WORKERS}` on loopback, demo clinic scaled to "
            f"{doctor_count} doctors; reads loaded by {how}, beside a bare Starlette app under "
            f"the same uvicorn ({WORKERS} workers) answering the same bytes; {setup}"
        ),
        quick=quick,
    )
    rows = []
    for result in results:
        label, project, floor = result.read.label, result.project, result.floor
        report.figures[label] = {
            "bytes": result.size,
            "requests_per_second": project.requests_per_second,
            "p50_ms": project.p50_ms,
            "p99_ms": project.p99_ms,
            "floor_requests_per_second": floor.requests_per_second,
            "floor_p50_ms": floor.p50_ms,
            "floor_p99_ms": floor.p99_ms,
            "ratio": result.ratio,
            "load_generator": generator,
        }
        rows.append(
            [
                label,
                result.size,
                project.requests_per_second,
                floor.requests_per_second,
                f"{result.ratio:.1f}x",
                f"<= {result.read.ratio_target:g}x",
                project.p50_ms,
                project.p99_ms,
            ]
        )
        report.targets.append(
            Target(f"{label}, floor / project", result.ratio, result.read.ratio_target)
        )
    report.tables.append(
        Table(
            f"reads at {CLIENTS} connections, project beside the floor ({generator})",
            [
                "path",
                "bytes",
                "project req/s",
                "floor req/s",
                "ratio",
                "target",
                "p50 ms",
                "p99 ms",
            ],
            rows,
        )
    )
    _report_booking(report, flows)
    report.notes.append(
        "ratio: the floor's requests per second over the project's, same path, same bytes, "
        "same load, same run; the booking flow's threads cost CPU on the same cores "
        f"({booking_cores:.2f} cores)"
    )
    return report


def _report_booking(report: Report, flows: dict[str, Flow]) -> None:
    rows: list[list[object]] = []
    for label, flow in flows.items():
        whole, holds, confirms = (
            latency_summary(samples) for samples in (flow.bookings, flow.holds, flow.confirms)
        )
        report.figures[f"hold + confirm, {label}"] = {
            **whole,
            "bookings_per_second": round(flow.per_second, 1),
            "hold": holds,
            "confirm": confirms,
        }
        rows.append(
            [
                label,
                len(flow.bookings),
                round(flow.per_second, 1),
                whole["p50_ms"],
                whole["p99_ms"],
                holds["p50_ms"],
                confirms["p50_ms"],
            ]
        )
    report.tables.append(
        Table(
            f"hold + confirm at {CLIENTS} concurrent clients (one patient each; over HTTP: "
            "keep-alive HTTP/1.1 clients, bench/raw_http.py; POST then PUT /appointments/me)",
            ["how", "bookings", "per second", "p50 ms", "p99 ms", "hold p50", "confirm p50"],
            rows,
        )
    )
    local, http, paced = flows["in process"], flows["over HTTP"], flows["over HTTP, paced"]
    share = round(http.per_second / local.per_second, 2)
    report.figures["http_share_of_in_process"] = share
    report.targets.append(
        Target(
            f"bookings/s over HTTP at {CLIENTS} clients, share of in process",
            share,
            BOOKING_TARGET_SHARE,
            True,
        )
    )
    report.targets.append(
        Target(
            f"hold + confirm p99 over HTTP, {CLIENTS} clients paced at "
            f"{BOOKING_TARGET_SHARE:g} x the in-process rate (ms)",
            latency_summary(paced.bookings)["p99_ms"],
            BOOKING_TARGET_P99_MS,
        )
    )
