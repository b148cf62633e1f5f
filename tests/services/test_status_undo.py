"""A status set by mistake is set back; both changes are audited, by whom and to what."""

from __future__ import annotations

import json

from hms_desktop.domain.enums import AppointmentStatus, Role
from hms_desktop.services import audit, scheduling
from hms_desktop.services.clinic import Clinic
from tests import factories
from tests.services.support import free_slot_ids


def test_a_status_set_by_mistake_goes_back_and_both_changes_are_audited(clinic: Clinic) -> None:
    desk_user, desk = factories.staff(clinic)
    _, admin = factories.staff(clinic, Role.ADMIN)
    doc = factories.doctor(clinic)
    patient = factories.patient(clinic, desk).id
    (slot,) = free_slot_ids(clinic, doc.doctor_id, 1)
    hold = scheduling.hold_slot(clinic, desk, slot, patient)
    booked = scheduling.confirm_booking(clinic, desk, slot, patient, token=hold.token)

    for mistake in (AppointmentStatus.NO_SHOW, AppointmentStatus.ARRIVED):
        assert scheduling.set_status(clinic, desk, booked.id, mistake).status is mistake
        back = scheduling.set_status(clinic, desk, booked.id, AppointmentStatus.SCHEDULED)
        assert back.status is AppointmentStatus.SCHEDULED

    entries = list(reversed(audit.recent_entries(clinic, admin, entity="appointment", limit=4)))
    assert [(e["action"], e["entity_id"], e["actor"]) for e in entries] == [
        ("status", str(booked.id), desk_user.username)
    ] * 4
    assert [json.loads(e["detail"])["status"] for e in entries] == [
        "no_show",
        "scheduled",
        "arrived",
        "scheduled",
    ]
