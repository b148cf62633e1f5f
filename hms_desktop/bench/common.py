"""What every benchmark shares: its own PostgreSQL database and Redis key prefix, latency
percentiles, targets, and a report that prints as a table and serialises as JSON."""

from __future__ import annotations

import os
import platform
import secrets
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import redis
from sqlalchemy import Engine, create_engine, pool, text
from sqlalchemy.engine import make_url

from hms_desktop.config import Settings
from hms_desktop.store import schema

DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


# Benchmarks measure the server, not its rate limiter.
UNLIMITED = "100000000/minute"
# Per-patient quotas a benchmark's few patients would reach: the server is measured.
NO_QUOTA = 1_000_000


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def server_settings(
    settings: Settings, database_url: str, redis_url: str, redis_prefix: str, **overrides: Any
) -> Settings:
    """A benchmark's clinic on its own stores, as a server runs it: a fresh secret key, no
    rate limits and no per-patient quotas (the server is measured, not its limiter)."""
    return settings.with_overrides(
        mode="local",
        api_url="",
        database_url=database_url,
        redis_url=redis_url,
        redis_prefix=redis_prefix,
        secret_key=secrets.token_urlsafe(32),
        rate_limit_default=UNLIMITED,
        rate_limit_desk=UNLIMITED,
        rate_limit_login=UNLIMITED,
        rate_limit_register=UNLIMITED,
        max_holds_per_patient=NO_QUOTA,
        max_online_bookings_per_patient=NO_QUOTA,
        **overrides,
    )


@contextmanager
def served(settings: Settings, workers: int = 1) -> Iterator[str]:
    """`hms-desktop serve --workers N` over `settings`' stores on a free loopback port, as a
    subprocess (as IT runs it); stopped afterwards."""
    port = _free_port()
    env = {
        **os.environ,
        "HMS_DATABASE_URL": settings.database_url,
        "HMS_REDIS_URL": settings.redis_url,
        "HMS_REDIS_PREFIX": settings.redis_prefix,
        "HMS_SECRET_KEY": settings.secret_key,
        "HMS_RATE_LIMIT_DEFAULT": UNLIMITED,
        "HMS_RATE_LIMIT_LOGIN": UNLIMITED,
        "HMS_RATE_LIMIT_REGISTER": UNLIMITED,
        "HMS_MAX_HOLDS_PER_PATIENT": str(settings.max_holds_per_patient),
        "HMS_MAX_ONLINE_BOOKINGS_PER_PATIENT": str(settings.max_online_bookings_per_patient),
        "HMS_BOOKING_HORIZON_DAYS": str(settings.booking_horizon_days),
        "HMS_LOG_LEVEL": "WARNING",
    }
    env.pop("HMS_API_URL", None)
    env.pop("HMS_MODE", None)
    command = [sys.executable, "-m", "hms_desktop", "serve", "--port", str(port)]
    process = subprocess.Popen([*command, "--workers", str(workers)], env=env)
    url = f"http://127.0.0.1:{port}"
    with running(process, f"{url}/api/version", "hms-desktop serve", start_seconds=60):
        yield url


@contextmanager
def running(
    process: subprocess.Popen[bytes],
    probe_url: str,
    name: str,
    start_seconds: float,
    *,
    any_status: bool = False,
) -> Iterator[None]:
    """Wait until a benchmark's server answers `probe_url` (2xx unless `any_status`), then
    stop it afterwards."""
    try:
        deadline = time.monotonic() + start_seconds
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with {process.returncode}")
            try:
                answer = httpx.get(probe_url, timeout=1)
                if not any_status:
                    answer.raise_for_status()
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{name} did not start in {start_seconds:.0f} s") from None
                time.sleep(0.1)
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def bench_database_url() -> str:
    """The PostgreSQL server benchmarks make their databases on (never the clinic's own)."""
    return os.environ.get("HMS_BENCH_DATABASE_URL") or DEFAULT_DATABASE_URL


def bench_redis_url() -> str:
    return os.environ.get("HMS_BENCH_REDIS_URL") or DEFAULT_REDIS_URL


def _admin_engine() -> Engine:
    return create_engine(
        make_url(bench_database_url()).set(drivername="postgresql+psycopg"),
        poolclass=pool.NullPool,
        isolation_level="AUTOCOMMIT",
    )


@contextmanager
def bench_database(name: str) -> Iterator[str]:
    """A fresh, migrated database `hms_bench_<name>_<random>`, dropped afterwards."""
    database = f"hms_bench_{name}_{uuid.uuid4().hex[:6]}"
    admin = _admin_engine()
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{database}"'))
        url = make_url(bench_database_url()).set(database=database)
        rendered = url.render_as_string(hide_password=False)
        try:
            schema.upgrade(rendered)
            yield rendered
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
    finally:
        admin.dispose()


@contextmanager
def bench_redis(name: str) -> Iterator[tuple[str, str]]:
    """(url, key prefix) of a Redis namespace of the benchmark's own, emptied afterwards."""
    url = bench_redis_url()
    prefix = f"hmsbench:{name}:{uuid.uuid4().hex[:6]}:"
    try:
        yield url, prefix
    finally:
        client = redis.Redis.from_url(url)
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()


@contextmanager
def without_secondary_indexes(engine: Engine, tables: list[str]) -> Iterator[None]:
    """Drop these tables' non-unique indexes while bulk-loading, then rebuild them from
    their own definitions (building an index once is far faster than row by row) and
    vacuum the tables."""
    with engine.begin() as connection:
        definitions = connection.execute(
            text(
                "SELECT i.indexname, i.indexdef FROM pg_indexes i "
                "JOIN pg_class c ON c.relname = i.indexname "
                "JOIN pg_index x ON x.indexrelid = c.oid "
                "WHERE i.schemaname = 'public' AND i.tablename = ANY(:tables) "
                "AND NOT x.indisunique AND NOT x.indisprimary"
            ),
            {"tables": tables},
        ).all()
        for name, _definition in definitions:
            connection.execute(text(f'DROP INDEX "{name}"'))
    yield
    with engine.begin() as connection:
        connection.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
        for _name, definition in definitions:
            connection.execute(text(definition))
    # As autovacuum would in a steady state: statistics, and the visibility map that lets
    # PostgreSQL answer from an index alone.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for table in tables:
            connection.execute(text(f'VACUUM ANALYZE "{table}"'))


def server_versions(engine: Engine, redis_url: str | None = None) -> str:
    with engine.connect() as connection:
        postgres = connection.execute(text("SHOW server_version")).scalar_one()
    parts = [f"PostgreSQL {postgres}"]
    if redis_url:
        client = redis.Redis.from_url(redis_url)
        parts.append(f"Redis {client.info('server')['redis_version']}")
        client.close()
    parts.append(f"Python {platform.python_version()}, {os.cpu_count()} CPUs")
    return ", ".join(parts)


# --- figures -----------------------------------------------------------------------------------


def latency_summary(seconds: list[float]) -> dict[str, float]:
    """p50/p95/p99 (and mean, max) in milliseconds."""
    millis = sorted(value * 1000 for value in seconds)
    if len(millis) == 1:
        millis = millis * 2
    cuts = statistics.quantiles(millis, n=100, method="inclusive")
    return {
        "count": len(seconds),
        "p50_ms": round(cuts[49], 3),
        "p95_ms": round(cuts[94], 3),
        "p99_ms": round(cuts[98], 3),
        "mean_ms": round(statistics.fmean(millis), 3),
        "max_ms": round(millis[-1], 3),
    }


@dataclass(frozen=True)
class Target:
    description: str
    measured: float
    limit: float
    higher_is_better: bool = False

    @property
    def met(self) -> bool:
        return self.measured >= self.limit if self.higher_is_better else self.measured <= self.limit


@dataclass
class Table:
    title: str
    headers: list[str]
    rows: list[list[Any]]

    def render(self) -> str:
        cells = [[_cell(value) for value in row] for row in self.rows]
        widths = [
            max(len(header), *(len(row[index]) for row in cells)) if cells else len(header)
            for index, header in enumerate(self.headers)
        ]
        lines = [self.title]
        lines.append("  ".join(h.ljust(w) for h, w in zip(self.headers, widths, strict=True)))
        lines.append("  ".join("-" * w for w in widths))
        for row in cells:
            lines.append(
                "  ".join(
                    value.rjust(width) if index else value.ljust(width)
                    for index, (value, width) in enumerate(zip(row, widths, strict=True))
                )
            )
        return "\n".join(lines)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


@dataclass
class Report:
    name: str
    setup: str
    quick: bool = False
    tables: list[Table] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)
    targets: list[Target] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def render(self) -> str:
        title = f"benchmark {self.name}" + (
            " (quick: a smoke run, not the real figures)" if self.quick else ""
        )
        parts = [title, self.setup, ""]
        for table in self.tables:
            parts += [table.render(), ""]
        if self.targets:
            parts.append("targets")
            for target in self.targets:
                verdict = "met   " if target.met else "MISSED"
                relation = ">=" if target.higher_is_better else "<="
                parts.append(
                    f"  {verdict} {target.description}: {target.measured:,.2f} "
                    f"(target {relation} {target.limit:,.2f})"
                )
        parts += [f"note: {note}" for note in self.notes]
        return "\n".join(parts).rstrip()

    def as_json(self) -> dict[str, Any]:
        return {
            "benchmark": self.name,
            "quick": self.quick,
            "setup": self.setup,
            "figures": self.figures,
            "targets": [
                {
                    "description": target.description,
                    "measured": target.measured,
                    "limit": target.limit,
                    "higher_is_better": target.higher_is_better,
                    "met": target.met,
                }
                for target in self.targets
            ],
            "notes": self.notes,
        }
