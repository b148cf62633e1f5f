"""Reports behave the same on LocalBackend and RemoteBackend: the same rows and figures,
a doctor's own row only, the same error for a range the wrong way round."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hms_desktop.domain.enums import AppointmentStatus, Role
from hms_desktop.domain.errors import ValidationError
from hms_desktop.domain.reports import ReportGroup
from hms_desktop.services import reports, scheduling
from tests import factories
from tests.contract.conftest import World
from tests.services.support import free_slot_ids


def test_report_rows_and_who_sees_them(world: World) -> None:
    clinic = world.clinic
    _, desk_actor = factories.staff(clinic)
    speciality = factories.speciality(clinic)
    first = factories.doctor(clinic, specialisation_ids=[speciality], first_name="Ann")
    second = factories.doctor(clinic, specialisation_ids=[speciality], first_name="Ben")
    slots = free_slot_ids(clinic, first.doctor_id, 3)
    for slot_id, step in zip(slots, ("cancel", AppointmentStatus.NO_SHOW, None), strict=True):
        patient = factories.patient(clinic)
        scheduling.hold_slot(clinic, desk_actor, slot_id, patient.id)
        booked = scheduling.confirm_booking(clinic, desk_actor, slot_id, patient.id)
        if step == "cancel":
            scheduling.cancel_appointment(clinic, desk_actor, booked.id)
        elif step is not None:
            scheduling.set_status(clinic, desk_actor, booked.id, step)
    today = clinic.today()
    last = today + timedelta(days=9)

    admin, _ = world.desk(Role.ADMIN)
    found = admin.report(today, last, ReportGroup.DOCTOR)
    assert found == reports.report(clinic, desk_actor, today, last, ReportGroup.DOCTOR)
    mine = {row.key: row for row in found.rows}
    row = mine[first.doctor_id]
    assert (row.booked, row.cancelled, row.no_show, row.pending) == (3, 1, 1, 1)
    assert row.no_show_rate == pytest.approx(0.5)
    assert mine[second.doctor_id].booked == 0 and mine[second.doctor_id].offered_minutes > 0

    desk, _ = world.desk()
    by_speciality = desk.report(today, last, ReportGroup.SPECIALITY)
    (group,) = [row for row in by_speciality.rows if row.key == speciality]
    assert (group.booked, group.cancelled, group.no_show) == (3, 1, 1)

    doctor = world.doctor_desk(second)
    own = doctor.report(today, last, ReportGroup.SPECIALITY)
    assert [row.key for row in own.rows] == [second.doctor_id]
    with pytest.raises(ValidationError) as wrong_way:
        desk.report(last, today, ReportGroup.DOCTOR)
    assert wrong_way.value.field == "last"
