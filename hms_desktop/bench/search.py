"""`hms-desktop bench search`: patient search at the desk (services.patients.search_patients)
by a fragment of the name and by the start of a phone number, over 1,000,000 patients."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass

from sqlalchemy import text

from hms_desktop.bench.common import (
    Report,
    Table,
    Target,
    bench_database,
    latency_summary,
    server_versions,
    without_secondary_indexes,
)
from hms_desktop.bench.data import capture_statements, explain, insert_patients, timed
from hms_desktop.config import Settings
from hms_desktop.domain.models import SYSTEM
from hms_desktop.services import patients
from hms_desktop.services.clinic import Clinic, open_clinic

# What a receptionist types: common and rare surnames, first names, partial words, full names.
NAME_FRAGMENTS = (
    "smith",
    "john",
    "garc",
    "patel",
    "kowal",
    "okafor",
    "nguy",
    "mar",
    "ali",
    "anna sch",
    "maria garcia",
    "james smith",
    "zuzana",
    "iyer",
    "tana",
    "hamza",
    "lefeb",
    "sven",
    "ewa nowak",
    "nair",
)
PHONE_DIGITS = (5, 6, 7, 8, 9, 10)  # digits typed after +447, before the list is short


@dataclass(frozen=True)
class Scale:
    patients: int
    queries: int


FULL = Scale(patients=1_000_000, queries=400)
QUICK = Scale(patients=5_000, queries=40)
WARM_UP = 20


def _generate(clinic: Clinic, scale: Scale, timings: dict[str, float]) -> None:
    with (
        without_secondary_indexes(clinic.db.writer, ["users", "profiles", "patients"]),
        timed(timings, "insert_rows_s"),
        clinic.db.writer.begin() as connection,
    ):
        insert_patients(connection, scale.patients)
    with clinic.db.writer.begin() as connection:
        connection.execute(text("ANALYZE"))


def _phone_prefixes(clinic: Clinic, count: int, rng: random.Random) -> list[str]:
    with clinic.db.read() as session:
        phones = list(
            session.scalars(
                text("SELECT phone FROM patients TABLESAMPLE SYSTEM (1) LIMIT :count"),
                {"count": count},
            )
        )
        if len(phones) < count:
            phones += list(
                session.scalars(text("SELECT phone FROM patients LIMIT :count"), {"count": count})
            )
    return [phone[: 4 + rng.choice(PHONE_DIGITS)] for phone in phones[:count]]


def _measure(clinic: Clinic, texts: list[str]) -> tuple[list[float], list[int]]:
    for query_text in texts[:WARM_UP]:
        patients.search_patients(clinic, SYSTEM, query_text)
    latencies, found = [], []
    for query_text in texts:
        began = time.perf_counter()
        found.append(len(patients.search_patients(clinic, SYSTEM, query_text)))
        latencies.append(time.perf_counter() - began)
    return latencies, found


def _plan(clinic: Clinic, query_text: str) -> str:
    statements = capture_statements(
        clinic.db.reader, lambda: patients.search_patients(clinic, SYSTEM, query_text)
    )
    # A name search is two statements (names starting with the text, then containing it).
    with clinic.db.reader.connect() as connection:
        return "\n".join(
            explain(connection, statement, parameters)
            for statement, parameters in statements
            if "patients" in statement
        )


def run(settings: Settings, *, quick: bool = False) -> Report:
    scale = QUICK if quick else FULL
    rng = random.Random(11)
    timings: dict[str, float] = {}
    with bench_database("search") as url:
        clinic = open_clinic(
            settings.with_overrides(database_url=url, redis_url="", redis_prefix=""),
            migrate=False,
        )
        try:
            with timed(timings, "generate_total_s"):
                _generate(clinic, scale, timings)
            setup = server_versions(clinic.db.writer)
            names = [NAME_FRAGMENTS[index % len(NAME_FRAGMENTS)] for index in range(scale.queries)]
            rng.shuffle(names)
            phones = _phone_prefixes(clinic, scale.queries, rng)
            name_latencies, name_found = _measure(clinic, names)
            phone_latencies, phone_found = _measure(clinic, phones)
            with clinic.db.read() as session:
                matches = {
                    fragment: session.scalar(
                        text(
                            "SELECT count(*) FROM users JOIN patients ON patients.user_id = "
                            "users.id WHERE lower(first_name || ' ' || last_name) LIKE :pattern"
                        ),
                        {"pattern": f"%{fragment}%"},
                    )
                    for fragment in NAME_FRAGMENTS
                }
            name_plan = _plan(clinic, "garc")
            phone_plan = _plan(clinic, phones[0])
        finally:
            clinic.close()
    name_summary = latency_summary(name_latencies)
    by_fragment: dict[str, list[float]] = {}
    for fragment, latency in zip(names, name_latencies, strict=True):
        by_fragment.setdefault(fragment, []).append(latency)
    fragment_rows = sorted(
        (
            [fragment, matches[fragment], latency_summary(values)["p50_ms"]]
            for fragment, values in by_fragment.items()
        ),
        key=lambda row: -row[2],
    )
    phone_summary = latency_summary(phone_latencies)
    report = Report(
        name="search",
        setup=(
            f"search_patients over {scale.patients:,} patients, "
            f"{len(NAME_FRAGMENTS)} name fragments and phone prefixes of +447 and "
            f"{min(PHONE_DIGITS)}-{max(PHONE_DIGITS)} digits, up to 50 answers; {setup}"
        ),
        quick=quick,
    )
    rows = []
    for kind, summary, found in (
        ("name fragment", name_summary, name_found),
        ("phone prefix", phone_summary, phone_found),
    ):
        rows.append(
            [
                kind,
                summary["count"],
                round(sum(found) / len(found), 1),
                summary["p50_ms"],
                summary["p95_ms"],
                summary["p99_ms"],
                summary["max_ms"],
            ]
        )
    report.tables.append(
        Table(
            "patient search (ms)",
            ["search by", "queries", "answers/query", "p50", "p95", "p99", "max"],
            rows,
        )
    )
    trigram_used = "ix_users_full_name_trgm" in name_plan
    prefix_index_used = "ix_users_full_name_c" in name_plan
    report.figures = {
        "patients": scale.patients,
        "generation_seconds": timings,
        "name": {**name_summary, "answers_mean": rows[0][2]},
        "phone": {**phone_summary, "answers_mean": rows[1][2]},
        "name_plan_uses_trigram_index": trigram_used,
        "name_plan_uses_prefix_index": prefix_index_used,
        "name_fragments": {
            fragment: {"matching_patients": count, "p50_ms": p50}
            for fragment, count, p50 in fragment_rows
        },
        "name_plan": name_plan,
        "phone_plan": phone_plan,
    }
    report.tables.append(
        Table(
            "name fragments, slowest first", ["fragment", "matching patients", "p50"], fragment_rows
        )
    )
    report.tables.append(
        Table(
            "data",
            ["patients", "generated in (s)"],
            [[scale.patients, timings["generate_total_s"]]],
        )
    )
    report.targets += [
        Target("name search p95 (ms)", name_summary["p95_ms"], 20.0),
        Target("phone search p95 (ms)", phone_summary["p95_ms"], 20.0),
    ]
    report.notes += [
        f"the name search {'uses' if prefix_index_used else 'does NOT use'} the prefix index "
        f"ix_users_full_name_c and {'uses' if trigram_used else 'does NOT use'} the trigram "
        "index ix_users_full_name_trgm",
        "query plans of a name search ('garc': names starting with it, then containing it):\n"
        + name_plan,
        f"query plan of a phone search ({phones[0]!r}):\n" + phone_plan,
    ]
    return report
