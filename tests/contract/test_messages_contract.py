"""Reminders at the desk, the same on LocalBackend and RemoteBackend: the opt-out box travels
with the patient form, and the desk sees a patient's messages with their state."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hms_desktop.domain.errors import PermissionDenied
from hms_desktop.domain.messages import Channel, MessageKind, MessageState
from hms_desktop.domain.models import SYSTEM, PatientForm
from hms_desktop.services import doctors
from tests import factories
from tests.contract.conftest import World


def test_the_desk_sees_a_patients_messages_and_sets_the_opt_out(world: World) -> None:
    backend, _ = world.desk()
    doc = factories.doctor(world.clinic, first_name="Grace", last_name="Hopper")
    quiet = backend.register_patient(
        PatientForm(full_name="Quinn Quiet", email="quinn@example.com", messages_opt_out=True)
    )
    assert quiet.messages_opt_out and backend.get_patient(quiet.id).messages_opt_out
    ann = backend.register_patient(PatientForm(full_name="Ann Lee", email="ann@example.com"))
    assert not ann.messages_opt_out
    start = world.clinic.now() + timedelta(days=3)
    first, second = doctors.free_slots(
        world.clinic, SYSTEM, [doc.doctor_id], start, start + timedelta(days=7), limit=2
    )
    for patient, slot in ((ann, first), (quiet, second)):
        hold = backend.hold_slot(slot.id, patient.id)
        backend.confirm_booking(slot.id, patient.id, hold.token)

    messages = backend.patient_messages(ann.id)
    assert [(m.kind, m.channel, m.state) for m in messages] == [
        (MessageKind.REMINDER, Channel.EMAIL, MessageState.PENDING),
        (MessageKind.CONFIRMATION, Channel.EMAIL, MessageState.PENDING),
    ]
    assert messages[0].recipient == "ann@example.com" and "Grace Hopper" in messages[0].body
    assert backend.patient_messages(quiet.id) == []
    # Unticked at the desk: stored, and shown again on the record.
    opted_out = backend.update_patient(
        ann.id, PatientForm(full_name="Ann Lee", email="ann@example.com", messages_opt_out=True)
    )
    assert opted_out.messages_opt_out
    # A doctor's desk does not read the patients' messages.
    with pytest.raises(PermissionDenied):
        world.doctor_desk(doc).patient_messages(ann.id)
