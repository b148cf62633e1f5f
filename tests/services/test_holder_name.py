"""Another desk's hold carries its holder's full name for the desk, and nothing about who
holds it for those the access policy keeps out (the doctor looking at their calendar)."""

from __future__ import annotations

from datetime import timedelta

from hms_desktop.domain.enums import Role
from hms_desktop.domain.models import SlotState
from hms_desktop.services import scheduling
from hms_desktop.services.clinic import Clinic
from tests import factories
from tests.services.support import free_slot_ids


def test_other_desks_see_the_holders_full_name_doctors_see_nobody(clinic: Clinic) -> None:
    _, holder = factories.staff(clinic, first_name="Maria", last_name="Lopez")
    _, other_desk = factories.staff(clinic, Role.ADMIN)
    doc = factories.doctor(clinic)
    alice = factories.patient(clinic)
    (slot,) = free_slot_ids(clinic, doc.doctor_id, 1)
    hold = scheduling.hold_slot(clinic, holder, slot, alice.id)
    assert (hold.holder, hold.holder_name) == (holder.username, "Maria Lopez")

    now = clinic.now()
    window = (now, now + timedelta(days=7))

    def seen_by(actor):  # type: ignore[no-untyped-def]
        shown = scheduling.calendar(clinic, actor, [doc.doctor_id], *window)
        return next(item for item in shown if item.slot.id == slot)

    at_other_desk = seen_by(other_desk)
    assert at_other_desk.state is SlotState.HELD and at_other_desk.hold is not None
    assert at_other_desk.hold.holder_name == "Maria Lopez" and at_other_desk.hold.token == ""
    at_doctor = seen_by(doc.actor)
    assert at_doctor.state is SlotState.HELD and at_doctor.hold is not None
    assert (at_doctor.hold.holder_name, at_doctor.hold.holder, at_doctor.hold.desk) == ("", "", "")
