"""`hms-desktop bench reports`: the reports (services.reports.report) over a year of a
50-doctor clinic on PostgreSQL: per doctor and per speciality, for the whole year and for
a month. The data is made set-based in SQL: weekday slots 09:00-17:00 (London time), most
of them booked, with cancellations, no-shows, leave and holidays; the visits seen have
their arrived / in-progress times (the waiting times), and the audit trail its entries."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection, text

from hms_desktop.bench.common import (
    Report,
    Table,
    Target,
    bench_database,
    latency_summary,
    server_versions,
    without_secondary_indexes,
)
from hms_desktop.bench.data import capture_statements, explain, insert_patients, insert_users, timed
from hms_desktop.config import Settings
from hms_desktop.domain.models import SYSTEM
from hms_desktop.domain.reports import ReportGroup
from hms_desktop.services import reports
from hms_desktop.services.clinic import Clinic, open_clinic

TZ = "Europe/London"
TABLES = ["users", "profiles", "patients", "slots", "appointments", "audit_entries"]


@dataclass(frozen=True)
class Scale:
    doctors: int
    specialities: int
    patients: int
    first: date
    last: date
    runs: int


FULL = Scale(50, 12, 50_000, date(2025, 1, 1), date(2025, 12, 31), 7)
QUICK = Scale(5, 3, 500, date(2025, 1, 1), date(2025, 3, 1), 3)
WARM_UP = 2

# Of the booked slots (by a hash of the slot id, out of 100): cancelled, no-show, still
# scheduled, the rest completed; 85 of 100 slots are booked.
_APPOINTMENTS = """
INSERT INTO appointments (patient_id, doctor_id, slot_id, appointment_type, symptoms, status,
    decline_reason, created_at, updated_at, arrived_at, in_progress_at)
SELECT p.first + (s.h % :patients), s.doctor_id, s.id, 'Offline', '',
    CASE WHEN s.r < 10 THEN 'cancelled' WHEN s.r < 18 THEN 'no_show'
         WHEN s.r < 20 THEN 'scheduled' ELSE 'completed' END,
    '', s.start_at - (s.h % 43200) * interval '1 minute', s.start_at,
    CASE WHEN s.r >= 20 THEN s.start_at - (s.h % 20) * interval '1 minute' END,
    CASE WHEN s.r >= 20 THEN s.start_at + (s.h % 15) * interval '1 minute' END
FROM (SELECT slots.*, abs(hashint4(id)) AS h, abs(hashint4(id + 7)) % 100 AS r FROM slots) s,
    (SELECT min(id) AS first FROM patients) p
WHERE s.h % 100 < 85
"""
_AUDIT = """
INSERT INTO audit_entries (at, actor_user_id, actor, action, entity, entity_id, detail)
SELECT a.created_at, CAST(NULL AS integer), 'desk', 'book', 'appointment', a.id::text, ''
FROM appointments a
UNION ALL
SELECT a.arrived_at, NULL, 'desk', 'status', 'appointment', a.id::text, '{"status": "arrived"}'
FROM appointments a WHERE a.status = 'completed'
UNION ALL
SELECT a.in_progress_at, NULL, 'doctor', 'status', 'appointment', a.id::text,
    '{"status": "in_progress"}'
FROM appointments a WHERE a.status = 'completed'
UNION ALL
SELECT s.start_at + interval '25 minutes', NULL, 'doctor', 'status', 'appointment',
    a.id::text, '{"status": "completed"}'
FROM appointments a JOIN slots s ON s.id = a.slot_id WHERE a.status = 'completed'
"""


def _insert(connection: Connection, scale: Scale) -> None:
    connection.execute(
        text(
            "INSERT INTO specialisations (name, slug) SELECT 'Speciality ' || n, "
            "'speciality-' || n FROM generate_series(1, :count) AS n"
        ),
        {"count": scale.specialities},
    )
    insert_users(connection, role="doctor", count=scale.doctors, username_prefix="doctor-")
    connection.execute(
        text(
            "INSERT INTO doctors (user_id, fee, meet_link, description, is_active) "
            "SELECT id, 50, '', '', true FROM users WHERE role = 'doctor'"
        )
    )
    connection.execute(
        text(
            "INSERT INTO doctor_specialisations (doctor_id, specialisation_id, position) "
            "SELECT d.id, (SELECT min(id) FROM specialisations) + d.id % :count, 0 "
            "FROM doctors d"
        ),
        {"count": scale.specialities},
    )
    insert_patients(connection, scale.patients)
    connection.execute(
        text(
            "INSERT INTO slots (doctor_id, start_at, duration) "
            "SELECT d.id, (day + time '09:00' + n * interval '30 minutes') AT TIME ZONE :tz, 30 "
            "FROM doctors d, generate_series(CAST(:first AS timestamp), "
            "CAST(:last AS timestamp), interval '1 day') AS day, generate_series(0, 15) AS n "
            "WHERE extract(isodow FROM day) < 6"
        ),
        {"tz": TZ, "first": scale.first, "last": scale.last},
    )
    connection.execute(text(_APPOINTMENTS), {"patients": scale.patients})
    connection.execute(text(_AUDIT))
    # A week of leave for each doctor (spread over the year) and two clinic holidays.
    connection.execute(
        text(
            "INSERT INTO time_blocks (doctor_id, kind, start_at, end_at, all_day, reason, "
            "created_by, created_at) "
            "SELECT id, 'leave', CAST(:first AS timestamptz) + (id % 40) * interval '7 days', "
            "CAST(:first AS timestamptz) + (id % 40 + 1) * interval '7 days', true, "
            "'Annual leave', 'admin', now() FROM doctors "
            "UNION ALL SELECT NULL, 'holiday', CAST(:first AS timestamptz) + "
            "n * interval '30 days', CAST(:first AS timestamptz) + n * interval '30 days' "
            "+ interval '1 day', true, 'Holiday', 'admin', now() FROM generate_series(1, 2) n"
        ),
        {"first": scale.first},
    )


def _measure(clinic: Clinic, first: date, last: date, group: ReportGroup, runs: int) -> dict:
    for _ in range(WARM_UP):
        reports.report(clinic, SYSTEM, first, last, group)
    latencies = []
    for _ in range(runs):
        began = time.perf_counter()
        found = reports.report(clinic, SYSTEM, first, last, group)
        latencies.append(time.perf_counter() - began)
    return {
        **latency_summary(latencies),
        "rows": len(found.rows),
        "booked": sum(row.booked for row in found.rows),
    }


def _plans(clinic: Clinic, scale: Scale) -> str:
    statements = capture_statements(
        clinic.db.reader,
        lambda: reports.report(clinic, SYSTEM, scale.first, scale.last, ReportGroup.DOCTOR),
    )
    with clinic.db.reader.connect() as connection:
        plans = []
        for sql, params in statements:
            if sql.lstrip().upper().startswith("SELECT"):
                plans.append(explain(connection, sql, params))
            else:  # the report's own settings (work_mem), as it runs
                connection.exec_driver_sql(sql, params)
        return "\n\n".join(plans[:2])


def run(settings: Settings, *, quick: bool = False) -> Report:
    scale = QUICK if quick else FULL
    timings: dict[str, float] = {}
    month_last = date(scale.first.year, scale.first.month + 1, scale.first.day)
    ranges = (("year" if not quick else "all", scale.last), ("month", month_last))
    with bench_database("reports") as url:
        clinic = open_clinic(
            settings.with_overrides(database_url=url, redis_url="", redis_prefix="", timezone=TZ),
            migrate=False,
        )
        try:
            with (
                timed(timings, "generate_s"),
                without_secondary_indexes(clinic.db.writer, TABLES),
                clinic.db.writer.begin() as connection,
            ):
                _insert(connection, scale)
            setup = server_versions(clinic.db.writer)
            with clinic.db.read() as session:
                counts = {
                    table: session.scalar(text(f"SELECT count(*) FROM {table}"))
                    for table in ("slots", "appointments", "audit_entries")
                }
            measured = {
                f"{name}/{group.value}": _measure(clinic, scale.first, last, group, scale.runs)
                for name, last in ranges
                for group in ReportGroup
            }
            plan = _plans(clinic, scale)
        finally:
            clinic.close()
    report = Report(
        name="reports",
        setup=(
            f"services.reports.report over {scale.first} to {scale.last} of {scale.doctors} "
            f"doctors in {scale.specialities} specialities: {counts['slots']:,} slots, "
            f"{counts['appointments']:,} appointments, {counts['audit_entries']:,} audit "
            f"entries; median of {scale.runs} runs after {WARM_UP} warm-up; {setup}"
        ),
        quick=quick,
    )
    report.tables.append(
        Table(
            "one report (ms)",
            ["range / per", "rows", "booked", "p50", "max"],
            [
                [key, value["rows"], value["booked"], value["p50_ms"], value["max_ms"]]
                for key, value in measured.items()
            ],
        )
    )
    report.tables.append(
        Table(
            "data",
            ["rows made", "generated in (s)"],
            [[sum(counts.values()), timings["generate_s"]]],
        )
    )
    whole = ranges[0][0]
    report.targets += [
        Target(f"{whole} per doctor, p50 (ms)", measured[f"{whole}/doctor"]["p50_ms"], 500.0),
        Target(
            f"{whole} per speciality, p50 (ms)", measured[f"{whole}/speciality"]["p50_ms"], 500.0
        ),
    ]
    report.figures = {
        "counts": counts,
        "generation_seconds": timings,
        "reports": measured,
        "plan": plan,
    }
    report.notes.append(
        "query plans of the per-doctor report (bookings, offered minutes):\n" + plan
    )
    return report
