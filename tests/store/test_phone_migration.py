"""0007_phone_e164: stored phone numbers become E.164; one that does not parse, or whose
E.164 form another patient has, is left as it was and named in the log."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest
from sqlalchemy import MetaData, create_engine, insert, pool, select

from hms_desktop.store import schema
from tests.store.conftest import Blank

BEFORE = "0006_live_events"

# Stored as the earlier code kept them: "+digits" or "digits".
STORED = {
    "national": "07700900081",
    "international": "+447700900082",  # already E.164: unchanged
    "us": "+15550001111",
    "garbage": "12ab",  # typed before numbers were checked
    "clash_a": "+447700900083",
    "clash_b": "07700900083",  # the same number as clash_a: left as it is
    "swap_a": "02079460001",  # becomes +442079460001 ...
    "swap_b": "+442079460001",  # ... which this one already is: a clash, left as is
    "none": "",
}


def _add_patients(url: str, phones: dict[str, str]) -> dict[str, int]:
    engine = create_engine(url, poolclass=pool.NullPool)
    meta = MetaData()
    meta.reflect(engine, only=["users", "patients"])
    users, patients = meta.tables["users"], meta.tables["patients"]
    defaults = {
        "email": "",
        "first_name": "",
        "last_name": "",
        "role": "patient",
        "is_staff": False,
        "is_active": True,
        "date_joined": datetime.now(UTC),
        "failed_logins": 0,
        "must_change_password": False,
    }
    ids: dict[str, int] = {}
    try:
        with engine.begin() as connection:
            for name, phone in phones.items():
                user = {k: v for k, v in defaults.items() if k in users.c}
                user_id = connection.execute(
                    insert(users).values(username=name, **user).returning(users.c.id)
                ).scalar_one()
                ids[name] = connection.execute(
                    insert(patients)
                    .values(user_id=user_id, phone=phone or None)
                    .returning(patients.c.id)
                ).scalar_one()
    finally:
        engine.dispose()
    return ids


def _phones(url: str, ids: dict[str, int]) -> dict[str, str | None]:
    engine = create_engine(url, poolclass=pool.NullPool)
    meta = MetaData()
    meta.reflect(engine, only=["patients"])
    patients = meta.tables["patients"]
    try:
        with engine.connect() as connection:
            by_id = dict(connection.execute(select(patients.c.id, patients.c.phone)).all())
    finally:
        engine.dispose()
    return {name: by_id[patient_id] for name, patient_id in ids.items()}


def test_stored_numbers_become_e164_and_the_rest_are_reported(
    blank: Blank, caplog: pytest.LogCaptureFixture
) -> None:
    schema.upgrade(blank.url, BEFORE)
    ids = _add_patients(blank.url, STORED)
    with caplog.at_level(logging.INFO):
        schema.upgrade(blank.url, "0007_phone_e164", phone_region="GB")
    assert _phones(blank.url, ids) == {
        "national": "+447700900081",
        "international": "+447700900082",
        "us": "+15550001111",
        "garbage": "12ab",
        "clash_a": "+447700900083",
        "clash_b": "07700900083",
        "swap_a": "02079460001",
        "swap_b": "+442079460001",
        "none": None,
    }
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 3, warnings
    assert any(f"patient {ids['garbage']}: phone '12ab' is not a number" in w for w in warnings)
    assert any(
        f"patient {ids['clash_b']}: phone '07700900083' is +447700900083, as for patient(s) "
        f"{ids['clash_a']}" in w
        for w in warnings
    )
    assert any(f"patient {ids['swap_a']}: phone '02079460001'" in w for w in warnings)


def test_numbers_without_a_country_code_take_the_configured_region(blank: Blank) -> None:
    schema.upgrade(blank.url, BEFORE)
    ids = _add_patients(blank.url, {"a": "5550002222", "b": "+447700900081", "c": "07700900081"})
    schema.upgrade(blank.url, phone_region="US")
    # A British national number is no US number of a possible length: it stays.
    assert _phones(blank.url, ids) == {
        "a": "+15550002222",
        "b": "+447700900081",
        "c": "07700900081",
    }
