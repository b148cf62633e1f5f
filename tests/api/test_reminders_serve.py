"""Reminders in `serve`: two server instances on one clinic database, each with its message
sender started by the app's lifespan (as `hms-desktop serve` does), deliver every booking's
confirmation exactly once."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import ExitStack
from datetime import timedelta

from fastapi.testclient import TestClient

from hms_desktop.api.app import create_app
from hms_desktop.domain.models import SYSTEM
from hms_desktop.services import doctors, scheduling
from hms_desktop.services.clinic import Clinic
from tests import factories
from tests.services.message_servers import smtp_server

BOOKINGS = 12


def test_two_serve_instances_send_each_booking_confirmation_once(
    open_store: Callable[..., Clinic],
) -> None:
    with smtp_server() as (mail, port):
        settings = {
            "smtp_host": "127.0.0.1",
            "smtp_port": port,
            "smtp_security": "none",
            "message_poll_seconds": 0.1,
            "reminder_hours": 0,
        }
        clinic = open_store(**settings)
        _, desk = factories.staff(clinic)
        doc = factories.doctor(clinic)
        start = clinic.now() + timedelta(days=1)
        slots = doctors.free_slots(
            clinic, SYSTEM, [doc.doctor_id], start, start + timedelta(days=7), limit=BOOKINGS
        )
        with ExitStack() as servers:
            for _ in range(2):
                app = create_app(open_store(**settings), keep_slots=True)
                servers.enter_context(TestClient(app))
            for index, slot in enumerate(slots):
                patient = factories.patient(clinic, desk, email=f"p{index}@example.com")
                hold = scheduling.hold_slot(clinic, desk, slot.id, patient.id)
                scheduling.confirm_booking(clinic, desk, slot.id, patient.id, token=hold.token)
            deadline = time.monotonic() + 20
            while len(mail.received) < BOOKINGS and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(0.5)  # room for a second delivery, were there one
        assert sorted(message["To"] for message in mail.received) == sorted(
            f"p{index}@example.com" for index in range(BOOKINGS)
        )
        assert len(set(mail.ids())) == BOOKINGS
