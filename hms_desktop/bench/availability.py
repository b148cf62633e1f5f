"""`hms-desktop bench availability`: free slots by speciality over a one-week window
(services.doctors.free_slots_by_speciality) with 500 doctors and a year of slots each,
a quarter of them booked and some held, on PostgreSQL + Redis."""

from __future__ import annotations

import functools
import random
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import PoolProxiedConnection, text

from hms_desktop.bench.common import (
    Report,
    Table,
    Target,
    bench_database,
    bench_redis,
    latency_summary,
    server_versions,
    without_secondary_indexes,
)
from hms_desktop.bench.data import capture_statements, explain, insert_patients, insert_users, timed
from hms_desktop.config import Settings
from hms_desktop.domain.models import ANONYMOUS, Hold
from hms_desktop.domain.schedule import local_midnight_utc
from hms_desktop.services import doctors
from hms_desktop.services.clinic import Clinic, open_clinic
from hms_desktop.store.locks import expiry

SPECIALITIES = (  # noqa: SIM905 - a word list reads best as words
    "Cardiology Dermatology Neurology Paediatrics Orthopaedics General-Medicine ENT "
    "Ophthalmology Gynaecology Psychiatry Oncology Urology Nephrology Endocrinology "
    "Gastroenterology Pulmonology Rheumatology Haematology Radiology Anaesthesiology "
    "Geriatrics Allergy-and-Immunology Infectious-Diseases Plastic-Surgery General-Surgery "
    "Neurosurgery Vascular-Surgery Sports-Medicine Physiotherapy Dentistry"
).split()


@dataclass(frozen=True)
class Scale:
    doctors: int
    specialities: int
    days: int
    patients: int
    queries: int
    holds: int


FULL = Scale(doctors=500, specialities=30, days=365, patients=20_000, queries=400, holds=400)
QUICK = Scale(doctors=40, specialities=5, days=21, patients=500, queries=30, holds=20)
WARM_UP = 20


def _generate(clinic: Clinic, scale: Scale, figures: dict[str, float]) -> None:
    first_day = local_midnight_utc(clinic.now(), clinic.settings.tz)
    with clinic.db.writer.begin() as connection:
        connection.execute(text("SET LOCAL TIME ZONE 'UTC'"))
        connection.execute(
            text(
                "INSERT INTO specialisations (name, slug) "
                "SELECT replace(name, '-', ' '), lower(name) FROM unnest(CAST(:names AS text[])) "
                "AS name"
            ),
            {"names": list(SPECIALITIES[: scale.specialities])},
        )
        insert_users(connection, role="doctor", count=scale.doctors, username_prefix="doctor-")
        connection.execute(
            text(
                "INSERT INTO doctors (user_id, fee, meet_link, description) "
                "SELECT id, 40 + (id % 12) * 10, '', '' FROM users WHERE role = 'doctor'"
            )
        )
        # Every doctor has a main speciality; one in five practises a second one.
        connection.execute(
            text(
                "WITH ranked AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k "
                "FROM doctors), specs AS (SELECT array_agg(id ORDER BY id) AS ids "
                "FROM specialisations) "
                "INSERT INTO doctor_specialisations (doctor_id, specialisation_id, position) "
                "SELECT r.id, s.ids[1 + r.k % :n], 0 FROM ranked r, specs s "
                "UNION ALL "
                "SELECT r.id, s.ids[1 + (r.k * 7 + 3) % :n], 1 FROM ranked r, specs s "
                "WHERE r.k % 5 = 0 AND (r.k * 7 + 3) % :n <> r.k % :n"
            ),
            {"n": scale.specialities},
        )
        insert_patients(connection, scale.patients)
    with without_secondary_indexes(clinic.db.writer, ["slots", "appointments"]):
        with timed(figures, "generate_slots_s"), clinic.db.writer.begin() as connection:
            connection.execute(text("SET LOCAL TIME ZONE 'UTC'"))
            # Weekdays, eight hours from 08:00, 09:00 or 10:00, in 15-, 20- or 30-minute slots.
            connection.execute(
                text(
                    "INSERT INTO slots (doctor_id, start_at, duration) "
                    "SELECT d.id, day + make_interval(hours => 8 + d.k % 3, "
                    "mins => step * d.minutes), d.minutes "
                    "FROM (SELECT id, k, (ARRAY[15, 20, 30])[1 + k % 3] AS minutes FROM "
                    "(SELECT id, (row_number() OVER (ORDER BY id) - 1)::int AS k "
                    "FROM doctors) AS r) AS d "
                    "CROSS JOIN generate_series(CAST(:first AS timestamptz), "
                    "CAST(:first AS timestamptz) + make_interval(days => :days - 1), "
                    "interval '1 day') AS day "
                    "CROSS JOIN generate_series(0, 31) AS step "
                    "WHERE extract(isodow FROM day) < 6 AND step * d.minutes < 480"
                ),
                {"first": first_day, "days": scale.days},
            )
        with timed(figures, "generate_appointments_s"), clinic.db.writer.begin() as connection:
            # A quarter of the slots are booked; one booking in twenty was cancelled again.
            connection.execute(
                text(
                    "INSERT INTO appointments (patient_id, doctor_id, slot_id, appointment_type, "
                    "symptoms, status, decline_reason, created_at, updated_at) "
                    "SELECT p.first + (s.id::bigint * 7919) % :patients, s.doctor_id, s.id, "
                    "'Offline', '', "
                    "CASE WHEN s.id % 20 = 0 THEN 'cancelled' ELSE 'scheduled' END, '', "
                    "now(), now() FROM slots s, (SELECT min(id) AS first FROM patients) p "
                    "WHERE (s.id * 2654435761) % 4 = 0"
                ),
                {"patients": scale.patients},
            )
    with clinic.db.writer.begin() as connection:
        connection.execute(text("ANALYZE"))
    _hold_some(clinic, scale)


def _hold_some(clinic: Clinic, scale: Scale) -> None:
    """Desks are talking about some free slots of the coming weeks right now."""
    with clinic.db.read() as session:
        slot_ids = list(
            session.scalars(
                text(
                    "SELECT id FROM slots WHERE start_at > now() "
                    "AND start_at < now() + interval '28 days' ORDER BY (id * 7919) % 1000 "
                    "LIMIT :count"
                ),
                {"count": scale.holds},
            )
        )
    for slot_id in slot_ids:
        clinic.locks.acquire(
            Hold(str(uuid.uuid4()), slot_id, 1, None, "bench", expiry(clinic.settings.hold_ttl_ms)),
            clinic.settings.hold_ttl_ms,
        )


def _replay(raw: PoolProxiedConnection, statements: list[tuple[str, dict]]) -> None:
    cursor = raw.cursor()
    try:
        for statement, parameters in statements:
            cursor.execute(statement, parameters)
            cursor.fetchall()
    finally:
        cursor.close()


def run(settings: Settings, *, quick: bool = False) -> Report:
    scale = QUICK if quick else FULL
    figures: dict[str, object] = {}
    with bench_database("availability") as url, bench_redis("availability") as (redis_url, prefix):
        settings = settings.with_overrides(
            database_url=url, redis_url=redis_url, redis_prefix=prefix, hold_ttl_minutes=30.0
        )
        clinic = open_clinic(settings, migrate=False)
        try:
            timings: dict[str, float] = {}
            with timed(timings, "generate_total_s"):
                _generate(clinic, scale, timings)
            with clinic.db.read() as session:
                counts = {
                    name: session.scalar(text(f"SELECT count(*) FROM {name}"))
                    for name in ("doctors", "slots", "appointments")
                }
            setup = server_versions(clinic.db.writer, redis_url)
            names = [name.replace("-", " ") for name in SPECIALITIES[: scale.specialities]]
            rng = random.Random(7)
            now = clinic.now()

            def query(index: int, start: datetime | None = None) -> int:
                start = start or now + timedelta(days=rng.randrange(28), hours=rng.randrange(24))
                found = doctors.free_slots_by_speciality(
                    clinic, ANONYMOUS, names[index % len(names)], start, start + timedelta(days=7)
                )
                return len(found)

            for index in range(WARM_UP):
                query(index)
            windows = [
                now + timedelta(days=rng.randrange(28), hours=rng.randrange(24))
                for _ in range(scale.queries)
            ]
            # The same SQL alone: each window's statements, as the service ran them, replayed
            # through the bare driver on the reader's own connection (same session settings),
            # every row fetched. Service and SQL alternate so the machine's load is shared.
            replays = [
                capture_statements(clinic.db.reader, functools.partial(query, index, window))
                for index, window in enumerate(windows)
            ]
            latencies, sql_latencies, returned = [], [], []
            raw = clinic.db.reader.raw_connection()
            try:
                raw.driver_connection.autocommit = True  # type: ignore[union-attr]
                for index, window in enumerate(windows):
                    began = time.perf_counter()
                    returned.append(query(index, window))
                    latencies.append(time.perf_counter() - began)
                    began = time.perf_counter()
                    _replay(raw, replays[index])
                    sql_latencies.append(time.perf_counter() - began)
            finally:
                raw.close()
            statements = capture_statements(
                clinic.db.reader, lambda: query(0, now + timedelta(days=1))
            )
            main = next(sql for sql, _ in statements if "doctor_specialisations" in sql)
            params = next(p for sql, p in statements if sql == main)
            with clinic.db.reader.connect() as connection:
                plan = explain(connection, main, params)
        finally:
            clinic.close()
    summary = latency_summary(latencies)
    sql_alone = latency_summary(sql_latencies)
    p95_ratio = summary["p95_ms"] / sql_alone["p95_ms"]
    figures.update(
        {
            "latency": summary,
            "sql_alone_latency": sql_alone,
            "p95_ratio_to_sql_alone": round(p95_ratio, 2),
            "free_slots_returned_mean": round(sum(returned) / len(returned), 1),
            "rows": counts,
            "generation_seconds": timings,
            "plan": plan,
        }
    )
    report = Report(
        name="availability",
        setup=(
            f"free_slots_by_speciality, one-week windows in the next 4 weeks, "
            f"{scale.specialities} specialities; {setup}"
        ),
        quick=quick,
        figures=figures,
    )
    report.tables.append(
        Table(
            "data",
            ["doctors", "slots", "appointments", "holds", "generated in (s)"],
            [
                [
                    counts["doctors"],
                    counts["slots"],
                    counts["appointments"],
                    scale.holds,
                    timings["generate_total_s"],
                ]
            ],
        )
    )
    report.tables.append(
        Table(
            "free slots by speciality (ms)",
            ["", "queries", "free slots/answer", "p50", "p95", "p99", "max"],
            [
                [
                    name,
                    figures_["count"],
                    figures["free_slots_returned_mean"],
                    figures_["p50_ms"],
                    figures_["p95_ms"],
                    figures_["p99_ms"],
                    figures_["max_ms"],
                ]
                for name, figures_ in (("service", summary), ("same SQL alone", sql_alone))
            ],
        )
    )
    report.targets.append(Target("p95 latency (ms)", summary["p95_ms"], 15.0))
    report.targets.append(
        Target("p95 within 2x the same SQL alone (ratio, same run)", p95_ratio, 2.0)
    )
    report.notes.append("query plan (EXPLAIN ANALYZE of the slots query):\n" + plan)
    return report
