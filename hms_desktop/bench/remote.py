"""`hms-desktop bench remote`: the desk's booking flow through the REST API against the local
implementation, and how fast a change on one desk reaches another.

A real `hms-desktop serve` subprocess on loopback, over a benchmark database of its own on
PostgreSQL and a Redis key prefix of its own. One desk books hold + confirm on distinct free
slots, first as a LocalBackend (services straight on the stores), then as a RemoteBackend
(HTTP). Then a remote desk follows the event stream while another desk (local, then remote)
holds and releases slots: propagation is from the start of the holding call to the moment
the listening desk's callback runs.
"""

from __future__ import annotations

import logging
import os
import queue
import shutil
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any

from sqlalchemy import text

from hms_desktop.bench import live
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
from hms_desktop.client import RemoteBackend
from hms_desktop.config import Settings
from hms_desktop.domain.enums import Role
from hms_desktop.domain.models import SYSTEM, ChangeEvent, PatientForm, WorkingHours
from hms_desktop.services import accounts, doctors, patients
from hms_desktop.services.backend import Backend
from hms_desktop.services.clinic import Clinic, open_clinic
from hms_desktop.services.local import LocalBackend

DOCTORS = 8
PATIENTS = 20
BOOKINGS = (400, 30)  # per backend kind (full run, quick run)
EVENTS = (300, 30)  # per publishing desk kind
WARM_UP = 10
ROUND = 10  # bookings per backend kind before switching to the other
PASSWORD = "bench-desk-password"
PROPAGATION_TARGET_MS = 250.0
EVENT_WAIT_SECONDS = 5.0


def _populate(clinic: Clinic) -> tuple[str, list[int], list[int]]:
    """A receptionist with a password, doctors working every day, patients.
    Returns (username, doctor ids, patient ids)."""
    desk = accounts.create_user(
        clinic, SYSTEM, username="bench-desk", role=Role.RECEPTIONIST, password=PASSWORD
    )
    actor = accounts.actor_for(desk)
    hours = [WorkingHours(day, clock_time(0, 0), clock_time(23, 45), 15) for day in range(7)]
    doctor_ids = []
    for index in range(DOCTORS):
        user = accounts.create_user(
            clinic,
            SYSTEM,
            username=f"bench-doctor-{index}",
            role=Role.DOCTOR,
            password=None,
            first_name="Doctor",
            last_name=str(index),
        )
        assert user.doctor_id is not None
        doctors.set_working_hours(clinic, SYSTEM, user.doctor_id, hours)
        doctor_ids.append(user.doctor_id)
    patient_ids = [
        patients.register_patient(clinic, actor, PatientForm(full_name=f"Bench Patient{index}")).id
        for index in range(PATIENTS)
    ]
    return desk.username, doctor_ids, patient_ids


def _free_slots(clinic: Clinic, doctor_ids: list[int]) -> Iterator[int]:
    start = clinic.now() + timedelta(hours=1)
    for slot in doctors.free_slots(clinic, SYSTEM, doctor_ids, start, start + timedelta(days=14)):
        yield slot.id


def _book(
    backend: Backend, slots: Iterator[int], patient_ids: list[int], count: int
) -> list[float]:
    samples = []
    for index in range(count):
        slot_id, patient_id = next(slots), patient_ids[index % len(patient_ids)]
        began = time.perf_counter()
        hold = backend.hold_slot(slot_id, patient_id)
        backend.confirm_booking(slot_id, patient_id, hold.token)
        samples.append(time.perf_counter() - began)
    return samples


def _propagation(
    publisher: Backend, listener: Backend, slots: list[int], patient_id: int, count: int
) -> list[float]:
    """Hold (and release) slots on `publisher`; time until `listener` hears each hold."""
    heard: queue.Queue[tuple[float, ChangeEvent]] = queue.Queue()
    subscription = listener.subscribe(lambda event: heard.put((time.perf_counter(), event)))
    samples = []
    try:
        for index in range(count):
            slot_id = slots[index % len(slots)]
            began = time.perf_counter()
            hold = publisher.hold_slot(slot_id, patient_id)
            while True:
                at, event = heard.get(timeout=EVENT_WAIT_SECONDS)
                if event.kind == "hold" and event.slot_id == slot_id:
                    samples.append(at - began)
                    break
            publisher.release_hold(slot_id, hold.token)
    finally:
        subscription.close()
    return samples


def run(settings: Settings, *, quick: bool = False) -> Report:
    # One INFO line per HTTP request would drown the figures.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    load = os.getloadavg()[0]  # other work on the machine skews every figure
    bookings = BOOKINGS[1 if quick else 0]
    events = EVENTS[1 if quick else 0]
    with bench_database("remote") as url, bench_redis("remote") as (redis_url, prefix):
        settings = server_settings(settings, url, redis_url, prefix)
        clinic = open_clinic(settings)
        try:
            username, doctor_ids, patient_ids = _populate(clinic)
            setup = server_versions(clinic.db.writer, redis_url)
            with clinic.db.transaction() as session:
                session.execute(text("ANALYZE"))
            slots = _free_slots(clinic, doctor_ids)
            with served(settings) as api_url:
                local = LocalBackend(open_clinic(settings), owns_clinic=True)
                remote = RemoteBackend(settings.with_overrides(mode="remote", api_url=api_url))
                watcher = RemoteBackend(settings.with_overrides(mode="remote", api_url=api_url))
                try:
                    for backend in (local, remote, watcher):
                        backend.login(username, PASSWORD)
                    _book(local, slots, patient_ids, WARM_UP)
                    _book(remote, slots, patient_ids, WARM_UP)
                    # Alternate in short rounds so drift in the machine's load is shared.
                    flow: dict[str, list[float]] = {"local": [], "remote": []}
                    for _ in range(max(1, bookings // ROUND)):
                        flow["local"] += _book(local, slots, patient_ids, ROUND)
                        flow["remote"] += _book(remote, slots, patient_ids, ROUND)
                    event_slots = [next(slots) for _ in range(20)]
                    spread = {
                        "local desk -> remote desk": _propagation(
                            local, watcher, event_slots, patient_ids[0], events
                        ),
                        "remote desk -> remote desk": _propagation(
                            remote, watcher, event_slots, patient_ids[0], events
                        ),
                    }
                finally:
                    for backend in (local, remote, watcher):
                        backend.close()
        finally:
            clinic.close()
    embedded = _embedded_workers(settings, live.CHANGES[1 if quick else 0])
    report = _report(flow, spread, setup, quick, load)
    _report_embedded(report, embedded)
    return report


def _embedded_workers(settings: Settings, changes: int) -> dict[str, Any]:
    """The small clinic: `serve --workers 2` on an embedded file, two remote desks (one the
    real window in a process of its own); a change on one, shown on the other."""
    scratch = Path(tempfile.mkdtemp(prefix="hms-bench-remote-"))
    url = f"sqlite:///{scratch / 'clinic.sqlite3'}"
    try:
        settings = server_settings(settings, url, "", "hms:")
        clinic = open_clinic(settings)
        try:
            username, _, _ = _populate(clinic)
        finally:
            clinic.close()
        with served(settings, workers=2) as api_url:
            remote = settings.with_overrides(mode="remote", api_url=api_url)
            return live.desk_to_desk(
                lambda: RemoteBackend(remote),
                live.environment(HMS_MODE="remote", HMS_API_URL=api_url),
                (username, PASSWORD),
                UTC,
                changes,
                patients="Bench",
            )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _report_embedded(report: Report, embedded: dict[str, Any]) -> None:
    shown, floor = embedded["shown"], embedded["floor"]
    report.figures["embedded_workers_desk_to_desk"] = shown
    report.figures["embedded_workers_floor"] = floor
    report.tables.append(
        Table(
            "serve --workers 2 on the embedded store: a change on one remote desk, shown on "
            "another remote desk's window (ms)",
            ["what", "changes", "p50", "p99"],
            [
                [
                    "change → shown on the other desk",
                    shown["count"],
                    shown["p50_ms"],
                    shown["p99_ms"],
                ],
                [
                    "floor: the same kind of write + a calendar reload, one desk",
                    floor["count"],
                    floor["p50_ms"],
                    floor["p99_ms"],
                ],
            ],
        )
    )
    report.targets.append(
        Target(
            "embedded store, serve --workers 2: change shown on another desk, p99 ms",
            shown["p99_ms"],
            live.TARGET_P99_MS,
        )
    )


def _report(
    flow: dict[str, list[float]],
    spread: dict[str, list[float]],
    setup: str,
    quick: bool,
    load: float,
) -> Report:
    report = Report(
        name="remote",
        setup=(
            "one desk, hold + confirm on distinct free slots; `hms-desktop serve` subprocess on "
            f"loopback; {setup}; load average {load:.1f} at the start"
        ),
        quick=quick,
    )
    flow_rows = []
    for kind, samples in flow.items():
        summary = latency_summary(samples)
        report.figures[f"booking_{kind}"] = summary
        flow_rows.append([kind, summary["count"], summary["p50_ms"], summary["p99_ms"]])
    report.figures["booking_remote_over_local_p50"] = round(
        report.figures["booking_remote"]["p50_ms"] / report.figures["booking_local"]["p50_ms"], 2
    )
    report.tables.append(
        Table("hold + confirm latency (ms)", ["backend", "bookings", "p50", "p99"], flow_rows)
    )
    spread_rows = []
    for path, samples in spread.items():
        summary = latency_summary(samples)
        report.figures[f"propagation_{path.split()[0]}"] = summary
        spread_rows.append([path, summary["count"], summary["p50_ms"], summary["p99_ms"]])
        report.targets.append(
            Target(
                f"change-event propagation p99, {path} (ms)",
                summary["p99_ms"],
                PROPAGATION_TARGET_MS,
            )
        )
    report.tables.append(
        Table(
            "change-event propagation (ms, from the holding call to the other desk's callback)",
            ["path", "events", "p50", "p99"],
            spread_rows,
        )
    )
    return report
