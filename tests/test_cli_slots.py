"""`hms-desktop slots extend [--days N]`: what cron runs to keep slots ahead."""

from __future__ import annotations

import os
import re
from pathlib import Path

from sqlalchemy import func, select

from hms_desktop.services.clinic import Clinic
from hms_desktop.store.tables import Slot, WorkingHoursRow
from tests import factories
from tests.stores import StoreSpec
from tests.test_cli import ROOT, run


def _env(store: StoreSpec, tmp_path: Path) -> dict[str, str]:
    settings = store.settings()
    config = tmp_path / "config.toml"
    config.touch()
    env = {key: value for key, value in os.environ.items() if not key.startswith("HMS_")}
    env.update(
        HMS_CONFIG=str(config),
        HMS_DATABASE_URL=settings.database_url,
        HMS_REDIS_URL=settings.redis_url,
        HMS_REDIS_PREFIX=settings.redis_prefix,
        HMS_LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
    )
    return env


def test_slots_extend_makes_and_counts_the_missing_slots(
    clinic: Clinic, store: StoreSpec, tmp_path: Path
) -> None:
    doc = factories.doctor(clinic, hours=[])
    with clinic.db.transaction() as session:
        session.add_all(
            WorkingHoursRow(
                doctor_id=doc.doctor_id,
                weekday=w.weekday,
                start_time=w.start,
                end_time=w.end,
                slot_minutes=w.slot_minutes,
            )
            for w in factories.ALL_WEEK
        )
    env = _env(store, tmp_path)

    first = run(env, "slots", "extend", "--days", "10")
    assert first.returncode == 0, first.stderr
    made = re.search(
        r"made (\d+) slots; every doctor's slots now reach 10 days ahead", first.stdout
    )
    assert made, first.stdout
    with clinic.db.read() as session:
        count = session.scalar(select(func.count()).where(Slot.doctor_id == doc.doctor_id))
    assert int(made.group(1)) == count and 9 * 47 <= count <= 10 * 47

    again = run(env, "slots", "extend", "--days", "10")
    assert again.returncode == 0 and "made 0 slots" in again.stdout
    further = run(env, "slots", "extend")  # the configured horizon: 28 days
    assert "now reach 28 days ahead" in further.stdout
    assert int(re.findall(r"made (\d+)", further.stdout)[0]) == 18 * 47

    refused = run(env, "slots", "extend", "--days", "0")
    assert refused.returncode == 1 and "--days must be 1 to 366" in refused.stderr
