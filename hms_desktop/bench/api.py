"""`hms-desktop bench api`: the REST API under load, as a clinic's central server runs it.

`hms-desktop serve --workers 2` in a subprocess on loopback, over a benchmark database of its
own on PostgreSQL and a Redis key prefix of its own, holding the demo clinic scaled to 500
doctors. Concurrent clients (threads, each with its own keep-alive connection and patient
session) measure requests per second and latency for `GET /doctors`, the speciality search
over a one-week window, and the booking flow (hold + confirm on distinct free slots).
The load generator shares the machine with the server, so the figures are a floor.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from datetime import timedelta

import httpx
from sqlalchemy import select, text

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
SECONDS = (15.0, 3.0)  # per read measurement
BOOKINGS_PER_CLIENT = (60, 8)
WARM_UP_SECONDS = 1.0
HORIZON_DAYS = 14
SEARCH_TARGET_RPS = 1000.0
BOOKING_TARGET_P99_MS = 50.0


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


def _run_for(
    clients: list[httpx.Client], seconds: float, request: Callable[[httpx.Client, int], None]
) -> tuple[list[float], float]:
    """Every client repeats `request` back to back for `seconds`; (latencies, elapsed)."""
    samples: list[list[float]] = [[] for _ in clients]
    failures: list[BaseException] = []
    start = threading.Barrier(len(clients) + 1)
    stop_at = [0.0]

    def loop(index: int) -> None:
        start.wait()
        own = samples[index]
        counter = 0
        try:
            while time.perf_counter() < stop_at[0]:
                began = time.perf_counter()
                request(clients[index], counter)
                own.append(time.perf_counter() - began)
                counter += 1
        except Exception as error:  # noqa: BLE001 - reported after the run
            failures.append(error)

    threads = [threading.Thread(target=loop, args=(i,)) for i in range(len(clients))]
    for thread in threads:
        thread.start()
    stop_at[0] = time.perf_counter() + seconds
    began = time.perf_counter()
    start.wait()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    if failures:
        raise RuntimeError(f"{len(failures)} clients failed; first: {failures[0]!r}")
    return [value for own in samples for value in own], elapsed


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


def run(settings: Settings, *, quick: bool = False) -> Report:
    logging.getLogger("httpx").setLevel(logging.WARNING)
    pick = 1 if quick else 0
    seconds = SECONDS[pick]
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
            load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
            setup = f"{server_versions(clinic.db.writer, redis_url)}; load average {load}"
            specialities = [
                item.name
                for item in catalogue.list_named(clinic, SYSTEM, NamedList.SPECIALISATIONS)
            ]
            sessions = _patient_sessions(clinic, CLIENTS)
            now = clinic.now()
            window = {
                "startTime": iso_millis(now),
                "endTime": iso_millis(now + timedelta(days=7)),
            }
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
            with served(settings, WORKERS) as api_url:
                clients = _clients(api_url, sessions)
                try:
                    speciality_sizes = [
                        len(
                            _expect(
                                clients[0].get(f"/doctors/specialities/{name}", params=window),
                                200,
                            ).json()
                        )
                        for name in specialities
                    ]

                    def list_doctors(client: httpx.Client, _: int) -> None:
                        _expect(client.get("/doctors"), 200)

                    def search(client: httpx.Client, counter: int) -> None:
                        name = specialities[counter % len(specialities)]
                        _expect(client.get(f"/doctors/specialities/{name}", params=window), 200)

                    results = {}
                    # How much of the 2 cores the load generator itself used (cores busy).
                    client_cpu: dict[str, float] = {}
                    for label, request in (
                        ("GET /doctors", list_doctors),
                        ("GET /doctors/specialities/{name} (one week)", search),
                    ):
                        _run_for(clients, WARM_UP_SECONDS, request)
                        cpu_before = time.process_time()
                        samples, elapsed = _run_for(clients, seconds, request)
                        client_cpu[label] = (time.process_time() - cpu_before) / elapsed
                        results[label] = (samples, elapsed)
                    cpu_before = time.process_time()
                    flow, holds, confirms, flow_elapsed = _booking_flow(clients, slots)
                    client_cpu["hold + confirm"] = (time.process_time() - cpu_before) / flow_elapsed
                finally:
                    for client in clients:
                        client.close()
        finally:
            clinic.close()
    return _report(
        results,
        (flow, holds, confirms, flow_elapsed),
        client_cpu,
        doctor_count,
        speciality_sizes,
        setup,
        quick,
    )


def _report(
    reads: dict[str, tuple[list[float], float]],
    booking: tuple[list[float], list[float], list[float], float],
    client_cpu: dict[str, float],
    doctor_count: int,
    speciality_sizes: list[int],
    setup: str,
    quick: bool,
) -> Report:
    report = Report(
        name="api",
        setup=(
            f"`hms-desktop serve --workers {WORKERS}` on loopback, demo clinic scaled to "
            f"{doctor_count} doctors, {CLIENTS} concurrent clients (threads, keep-alive, one "
            f"patient session each) on the same machine; {setup}"
        ),
        quick=quick,
    )
    rows = []
    for label, (samples, elapsed) in reads.items():
        summary = latency_summary(samples)
        rps = round(len(samples) / elapsed, 1)
        cores = round(client_cpu[label], 2)
        report.figures[label] = {**summary, "requests_per_second": rps, "client_cores": cores}
        rows.append([label, len(samples), rps, summary["p50_ms"], summary["p99_ms"], cores])
    flow, holds, confirms, elapsed = booking
    flow_summary = latency_summary(flow)
    flow_rate = round(len(flow) / elapsed, 1)
    flow_cores = round(client_cpu["hold + confirm"], 2)
    report.figures["hold + confirm"] = {
        **flow_summary,
        "bookings_per_second": flow_rate,
        "client_cores": flow_cores,
    }
    report.figures["hold"] = latency_summary(holds)
    report.figures["confirm"] = latency_summary(confirms)
    rows.append(
        [
            "hold + confirm (per booking)",
            len(flow),
            flow_rate,
            flow_summary["p50_ms"],
            flow_summary["p99_ms"],
            flow_cores,
        ]
    )
    for label, samples in (
        ("  POST /appointments/me (hold)", holds),
        ("  PUT /appointments/me (confirm)", confirms),
    ):
        summary = latency_summary(samples)
        rows.append([label, len(samples), "", summary["p50_ms"], summary["p99_ms"], ""])
    report.tables.append(
        Table(
            f"throughput and latency at {CLIENTS} concurrent clients",
            ["request", "count", "per second", "p50 ms", "p99 ms", "client cores"],
            rows,
        )
    )
    report.figures["free slots per speciality search (one week)"] = {
        "min": min(speciality_sizes),
        "max": max(speciality_sizes),
        "mean": round(sum(speciality_sizes) / len(speciality_sizes), 1),
    }
    report.notes.append(
        "client cores: CPU the load generator itself used (the machine has "
        f"{os.cpu_count()}), taken from the server"
    )
    report.notes.append(
        "a one-week speciality search returns "
        f"{min(speciality_sizes)}-{max(speciality_sizes)} free slots per response"
    )
    search_label = "GET /doctors/specialities/{name} (one week)"
    report.targets.append(
        Target(
            "speciality search, requests per second",
            report.figures[search_label]["requests_per_second"],
            SEARCH_TARGET_RPS,
            higher_is_better=True,
        )
    )
    report.targets.append(
        Target(
            f"hold + confirm p99 at {CLIENTS} clients (ms)",
            flow_summary["p99_ms"],
            BOOKING_TARGET_P99_MS,
        )
    )
    return report
