"""`hms-desktop bench api`: the REST API under load, as a clinic's central server runs it,
beside the HTTP floor measured in the same run.

`hms-desktop serve --workers 2` in a subprocess on loopback, over a benchmark database of its
own on PostgreSQL and a Redis key prefix of its own, holding the demo clinic scaled to 500
doctors. First the booking flow (hold + confirm on distinct free slots, 16 threads with a
patient session each); then each read path: its answer is fetched from the server, and the
same load (`wrk -t2 -c16`, or threads without wrk) runs against the server and against a
bare Starlette app under the same uvicorn settings answering those exact bytes (bench/floor).
The ratio floor / project is what the project's own code costs per request.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import quote, urlencode

import httpx
from sqlalchemy import select, text

from hms_desktop.bench import traffic
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


def _clients(url: str, sessions: list[str]) -> list[httpx.Client]:
    clients = []
    for token in sessions:
        client = httpx.Client(base_url=url, timeout=30)
        client.cookies.set("session", token)
        clients.append(client)
    return clients


def _expect(response: httpx.Response, status: int) -> httpx.Response:
    if response.status_code != status:
        raise RuntimeError(
            f"{response.request.method} {response.request.url.path}: "
            f"{response.status_code} {response.text[:200]}"
        )
    return response


def _booking_flow(
    clients: list[httpx.Client], slots: list[list[int]]
) -> tuple[list[float], list[float], list[float], float]:
    """Each client holds and confirms its own slots; (flow, hold, confirm latencies, elapsed)."""
    flows: list[list[float]] = [[] for _ in clients]
    holds: list[list[float]] = [[] for _ in clients]
    confirms: list[list[float]] = [[] for _ in clients]
    failures: list[BaseException] = []
    start = threading.Barrier(len(clients) + 1)

    def book(index: int) -> None:
        client = clients[index]
        start.wait()
        try:
            for slot_id in slots[index]:
                began = time.perf_counter()
                _expect(client.post("/appointments/me", json={"slot": slot_id}), 201)
                held = time.perf_counter()
                _expect(client.put("/appointments/me", json={"slot": slot_id}), 200)
                done = time.perf_counter()
                flows[index].append(done - began)
                holds[index].append(held - began)
                confirms[index].append(done - held)
        except Exception as error:  # noqa: BLE001 - reported after the run
            failures.append(error)

    threads = [threading.Thread(target=book, args=(i,)) for i in range(len(clients))]
    for thread in threads:
        thread.start()
    began = time.perf_counter()
    start.wait()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    if failures:
        raise RuntimeError(f"{len(failures)} clients failed; first: {failures[0]!r}")

    def flat(groups: list[list[float]]) -> list[float]:
        return [value for group in groups for value in group]

    return flat(flows), flat(holds), flat(confirms), elapsed


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
        response = _expect(httpx.get(api_url + read.target, headers=dict(read.headers)), 200)
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
            sessions = _patient_sessions(clinic, CLIENTS)
            now = clinic.now()
            per_client = BOOKINGS_PER_CLIENT[pick]
            free = doctors.free_slots(
                clinic,
                SYSTEM,
                [item.id for item in doctors.list_doctors(clinic, SYSTEM)],
                now + timedelta(hours=1),
                now + timedelta(days=HORIZON_DAYS),
            )
            if len(free) < CLIENTS * per_client:
                raise RuntimeError("not enough free slots for the booking flow")
            # Each client books its own slots, spread over doctors and days.
            step = len(free) // (CLIENTS * per_client)
            chosen = [slot.id for slot in free[:: max(1, step)]][: CLIENTS * per_client]
            slots = [chosen[i::CLIENTS] for i in range(CLIENTS)]
            reads = _reads(clinic, sessions[0])
            with served(settings, WORKERS) as api_url:
                clients = _clients(api_url, sessions)
                try:
                    cpu_before = time.process_time()
                    booking = _booking_flow(clients, slots)
                    booking_cores = (time.process_time() - cpu_before) / booking[3]
                finally:
                    for client in clients:
                        client.close()
                # After the bookings: the measured patient has appointments to read.
                results = _measure_reads(api_url, reads, SECONDS[pick])
        finally:
            clinic.close()
    return _report(results, booking, booking_cores, doctor_count, setup, quick)


def _report(
    results: list[ReadResult],
    booking: tuple[list[float], list[float], list[float], float],
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
    flow, holds, confirms, elapsed = booking
    flow_summary = latency_summary(flow)
    flow_rate = round(len(flow) / elapsed, 1)
    report.figures["hold + confirm"] = {
        **flow_summary,
        "bookings_per_second": flow_rate,
        "client_cores": round(booking_cores, 2),
    }
    report.figures["hold"] = latency_summary(holds)
    report.figures["confirm"] = latency_summary(confirms)
    booking_rows: list[list[object]] = [
        [
            "hold + confirm (per booking)",
            len(flow),
            flow_rate,
            flow_summary["p50_ms"],
            flow_summary["p99_ms"],
        ]
    ]
    for label, samples in (
        ("  POST /appointments/me (hold)", holds),
        ("  PUT /appointments/me (confirm)", confirms),
    ):
        summary = latency_summary(samples)
        booking_rows.append([label, len(samples), "", summary["p50_ms"], summary["p99_ms"]])
    report.tables.append(
        Table(
            f"booking flow at {CLIENTS} concurrent clients (threads, keep-alive, one patient "
            "session each)",
            ["request", "count", "per second", "p50 ms", "p99 ms"],
            booking_rows,
        )
    )
    report.targets.append(
        Target(
            f"hold + confirm p99 at {CLIENTS} clients (ms)",
            flow_summary["p99_ms"],
            BOOKING_TARGET_P99_MS,
        )
    )
    report.notes.append(
        "ratio: the floor's requests per second over the project's, same path, same bytes, "
        "same load, same run; the booking flow's threads cost CPU on the same cores "
        f"({booking_cores:.2f} cores)"
    )
    return report
