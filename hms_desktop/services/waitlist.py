"""The waitlist: put a patient on it, list it, take them off; fill a freed slot from it.

Offers are computed when read (free slots × waiting entries, `domain/waitlist.py` says what
fits and what is best), not written when a slot frees: a slot freed by a cancel, a move, a
declined request, leave removed or new hours is offered the same way, and nothing in the
booking path has to know about the waitlist. Taking an offer is an ordinary hold for the
entry's patient (so of two desks taking offers for one slot, one gets the hold and the other
"Slot is temporarily locked."); confirming it books the slot and marks the entry filled in
one transaction, and only an entry still waiting can be filled, so it is filled once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, aliased

from hms_desktop.domain import phones, policy, validation
from hms_desktop.domain.enums import AppointmentType, Role
from hms_desktop.domain.errors import (
    DoctorMissing,
    DoctorNotBookable,
    InvalidSpeciality,
    NotFound,
    PatientMissing,
    ValidationError,
)
from hms_desktop.domain.models import Actor, AppointmentRecord, Hold
from hms_desktop.domain.policy import Action, Kind, Owner
from hms_desktop.domain.schedule import as_utc
from hms_desktop.domain.waitlist import (
    SlotFacts,
    SlotOffer,
    TooManyWaitlistEntries,
    WaitlistEntry,
    WaitlistEntryClosed,
    WaitlistEntryMissing,
    WaitlistForm,
    WaitlistNoMatch,
    WaitlistPriority,
    WaitlistStatus,
    check_form,
    fits,
    offers_for,
    status_on,
)
from hms_desktop.services import access, doctors
from hms_desktop.services.clinic import Clinic
from hms_desktop.services.scheduling.holds import _drop_hold, confirm_booking, hold_slot
from hms_desktop.services.unit_of_work import UnitOfWork
from hms_desktop.store.tables import (
    Doctor,
    Patient,
    Slot,
    Specialisation,
    User,
    WaitlistEntryRow,
    doctor_specialisations,
)

# A patient putting themselves on the waitlist: a few entries at once, not a script's
# thousands (the desk adds any number).
MAX_OWN_ENTRIES = 5
# A list is for reading on a screen.
LIST_LIMIT = 500
EVENT = "waitlist"
_ONE_MINUTE = timedelta(minutes=1)

_PatientUser = aliased(User, name="waiting_user")
_DoctorUser = aliased(User, name="wanted_doctor_user")


def _query() -> Any:
    return (
        select(
            WaitlistEntryRow,
            _PatientUser.first_name,
            _PatientUser.last_name,
            Patient.phone,
            _DoctorUser.first_name,
            _DoctorUser.last_name,
            Specialisation.name,
        )
        .join(Patient, Patient.id == WaitlistEntryRow.patient_id)
        .join(_PatientUser, _PatientUser.id == Patient.user_id)
        .outerjoin(Doctor, Doctor.id == WaitlistEntryRow.doctor_id)
        .outerjoin(_DoctorUser, _DoctorUser.id == Doctor.user_id)
        .outerjoin(Specialisation, Specialisation.id == WaitlistEntryRow.specialisation_id)
    )


def _to_entry(row: Any) -> WaitlistEntry:
    entry, p_first, p_last, phone, d_first, d_last, speciality = row
    return WaitlistEntry(
        id=entry.id,
        patient_id=entry.patient_id,
        patient_name=f"{p_first} {p_last}".strip(),
        patient_phone=phone or "",
        doctor_id=entry.doctor_id,
        doctor_name=f"{d_first or ''} {d_last or ''}".strip(),
        specialisation_id=entry.specialisation_id,
        specialisation_name=speciality or "",
        first_day=entry.first_day,
        last_day=entry.last_day,
        preferred_times=entry.preferred_times,
        priority=WaitlistPriority(entry.priority),
        note=entry.note,
        status=WaitlistStatus(entry.status),
        created_at=as_utc(entry.created_at),
        created_by=entry.created_by,
        appointment_id=entry.appointment_id,
        filled_at=as_utc(entry.filled_at) if entry.filled_at is not None else None,
    )


def _load(session: Session, entry_id: int) -> WaitlistEntry:
    row = session.execute(_query().where(WaitlistEntryRow.id == entry_id)).first()
    if row is None:
        raise WaitlistEntryMissing()
    return _to_entry(row)


def _as_read(entry: WaitlistEntry, clinic: Clinic) -> WaitlistEntry:
    """An entry as the desk reads it today (an active one past its range has expired), its
    phone written as the rest of the desk shows it (national form)."""
    phone = phones.for_display(entry.patient_phone, region=clinic.settings.default_phone_region)
    return replace(entry, status=status_on(entry, clinic.today()), patient_phone=phone)


def _shown_to(actor: Actor, entry: WaitlistEntry) -> WaitlistEntry:
    """A patient reads their entry without the staff log-in that wrote it (a name to try
    passwords against at the desk's log-in): "clinic" stands for the desk."""
    if actor.role is Role.PATIENT and entry.created_by != actor.username:
        return replace(entry, created_by="clinic")
    return entry


def _owner(entry: WaitlistEntry) -> Owner:
    return Owner(patient_id=entry.patient_id)


def _publish(work: UnitOfWork, entry: WaitlistEntry, action: str) -> None:
    work.publish(
        EVENT,
        doctor_id=entry.doctor_id,
        patient_id=entry.patient_id,
        appointment_id=entry.appointment_id,
        extra={"entry_id": entry.id, "action": action},
    )


# --- the entries -----------------------------------------------------------------------------


def _patient_of(actor: Actor, patient_id: int | None) -> int:
    """Patients put themselves on it; the desk names the patient."""
    if actor.role is Role.PATIENT:
        if actor.patient_id is None:
            raise PatientMissing()
        patient_id = actor.patient_id if patient_id is None else patient_id
    if patient_id is None:
        policy.require(actor, Kind.WAITLIST, Action.CREATE, Owner())
        raise PatientMissing()
    policy.require(actor, Kind.WAITLIST, Action.CREATE, Owner(patient_id=patient_id))
    return patient_id


def add_entry(clinic: Clinic, actor: Actor, form: WaitlistForm) -> WaitlistEntry:
    """Put a patient on the waitlist for a doctor or a speciality."""
    patient_id = _patient_of(actor, form.patient_id)
    if actor.role is Role.PATIENT and form.priority is not WaitlistPriority.NORMAL:
        # The priority is the desk's triage: a patient marking themselves urgent would be
        # offered every freed slot before everyone who waits.
        raise ValidationError("The clinic sets the priority.", field="priority")
    form = check_form(form, clinic.today())
    with clinic.work(actor) as work:
        session = work.session
        # The patient's row locked: two requests of one patient at once count their
        # entries one after the other, so together they cannot pass MAX_OWN_ENTRIES.
        if session.get(Patient, patient_id, with_for_update=True) is None:
            raise PatientMissing()
        if form.doctor_id is not None:
            doctor = session.get(Doctor, form.doctor_id)
            if doctor is None:
                raise DoctorMissing()
            if not doctor.is_active:
                raise DoctorNotBookable()
        elif session.get(Specialisation, form.specialisation_id) is None:
            raise InvalidSpeciality()
        if actor.role is Role.PATIENT:
            _check_own_quota(session, clinic, patient_id)
        row = WaitlistEntryRow(
            patient_id=patient_id,
            doctor_id=form.doctor_id,
            specialisation_id=form.specialisation_id,
            first_day=form.first_day,
            last_day=form.last_day,
            preferred_times=form.preferred_times,
            priority=int(form.priority),
            note=form.note,
            status=WaitlistStatus.ACTIVE.value,
            created_at=clinic.now(),
            created_by=actor.username,
            updated_at=clinic.now(),
        )
        session.add(row)
        session.flush()
        entry = _load(session, row.id)
        work.record("create", "waitlist", row.id, patient_id=patient_id)
        _publish(work, entry, "create")
    return entry


def _check_own_quota(session: Session, clinic: Clinic, patient_id: int) -> None:
    waiting = session.scalars(
        select(WaitlistEntryRow.id).where(
            WaitlistEntryRow.patient_id == patient_id,
            WaitlistEntryRow.status == WaitlistStatus.ACTIVE.value,
            WaitlistEntryRow.last_day >= clinic.today(),
        )
    ).all()
    if len(waiting) >= MAX_OWN_ENTRIES:
        raise TooManyWaitlistEntries.of(MAX_OWN_ENTRIES)


def list_entries(
    clinic: Clinic,
    actor: Actor,
    status: WaitlistStatus | None = WaitlistStatus.ACTIVE,
    *,
    doctor_id: int | None = None,
    patient_id: int | None = None,
) -> list[WaitlistEntry]:
    """Entries best first (active ones), or newest first; `status` None: every one. A patient
    sees only their own."""
    seen = access.visible(actor, Kind.WAITLIST, Action.READ, patient=WaitlistEntryRow.patient_id)
    query = _query().where(seen)
    today = clinic.today()
    if status is WaitlistStatus.EXPIRED:
        query = query.where(
            WaitlistEntryRow.status == WaitlistStatus.ACTIVE.value,
            WaitlistEntryRow.last_day < today,
        )
    elif status is WaitlistStatus.ACTIVE:
        query = query.where(
            WaitlistEntryRow.status == status.value, WaitlistEntryRow.last_day >= today
        )
    elif status is not None:
        query = query.where(WaitlistEntryRow.status == status.value)
    if doctor_id is not None:
        query = query.where(WaitlistEntryRow.doctor_id == doctor_id)
    if patient_id is not None:
        query = query.where(WaitlistEntryRow.patient_id == patient_id)
    order: tuple[Any, ...]
    if status is WaitlistStatus.ACTIVE:
        order = (
            WaitlistEntryRow.priority.desc(),
            WaitlistEntryRow.created_at,
            WaitlistEntryRow.id,
        )
    else:
        order = (WaitlistEntryRow.updated_at.desc(), WaitlistEntryRow.id.desc())
    with clinic.db.read() as session:
        rows = session.execute(query.order_by(*order).limit(LIST_LIMIT))
        return [_shown_to(actor, _as_read(_to_entry(row), clinic)) for row in rows]


def withdraw_entry(clinic: Clinic, actor: Actor, entry_id: int) -> WaitlistEntry:
    """Take a waiting patient off the waitlist (the desk, or the patient themselves)."""
    with clinic.work(actor) as work:
        policy.require(actor, Kind.WAITLIST, Action.CANCEL)
        entry = _load(work.session, entry_id)
        if not policy.allows(actor, Kind.WAITLIST, Action.READ, _owner(entry)):
            raise WaitlistEntryMissing()  # another patient's entry is not shown to exist
        policy.require(actor, Kind.WAITLIST, Action.CANCEL, _owner(entry))
        changed = work.session.execute(
            update(WaitlistEntryRow)
            .where(
                WaitlistEntryRow.id == entry_id,
                WaitlistEntryRow.status == WaitlistStatus.ACTIVE.value,
            )
            .values(status=WaitlistStatus.WITHDRAWN.value, updated_at=clinic.now())
        )
        if not changed.rowcount:  # type: ignore[attr-defined]
            raise WaitlistEntryClosed()
        entry = _load(work.session, entry_id)
        work.record("withdraw", "waitlist", entry_id, patient_id=entry.patient_id)
        _publish(work, entry, "withdraw")
    return _shown_to(actor, entry)


# --- offers ----------------------------------------------------------------------------------


def _waiting(session: Session, clinic: Clinic) -> list[WaitlistEntry]:
    """Every entry still waiting whose range is not over."""
    query = _query().where(
        WaitlistEntryRow.status == WaitlistStatus.ACTIVE.value,
        WaitlistEntryRow.last_day >= clinic.today(),
    )
    return [_to_entry(row) for row in session.execute(query)]


def _specialities_of(session: Session, doctor_ids: set[int]) -> dict[int, frozenset[int]]:
    found: dict[int, set[int]] = {doctor_id: set() for doctor_id in doctor_ids}
    rows = session.execute(
        select(
            doctor_specialisations.c.doctor_id, doctor_specialisations.c.specialisation_id
        ).where(doctor_specialisations.c.doctor_id.in_(doctor_ids))
    )
    for doctor_id, specialisation_id in rows:
        found[doctor_id].add(specialisation_id)
    return {doctor_id: frozenset(ids) for doctor_id, ids in found.items()}


def offers(
    clinic: Clinic, actor: Actor, doctor_ids: Sequence[int], start: datetime, end: datetime
) -> list[SlotOffer]:
    """The free slots of these doctors in [start, end) that waiting entries fit, each with
    its entries best first, in time order."""
    policy.require(actor, Kind.WAITLIST, Action.ASSIGN)
    start, end = validation.check_window(start, end, fields=("start", "end"))
    with clinic.db.read() as session:
        waiting = _waiting(session, clinic)
        specialities = _specialities_of(session, set(doctor_ids)) if waiting else {}
    if not waiting:
        return []
    tz = clinic.settings.tz
    found = []
    for slot in doctors.free_slots(clinic, actor, doctor_ids, start, end):
        facts = SlotFacts(
            slot.doctor_id, specialities.get(slot.doctor_id, frozenset()), slot.start.astimezone(tz)
        )
        best = offers_for(waiting, facts)
        if best:
            found.append(SlotOffer(slot.id, slot.doctor_id, slot.start, slot.duration, tuple(best)))
    return found


def _slot_facts(session: Session, clinic: Clinic, slot_id: int) -> tuple[Slot, SlotFacts]:
    slot = session.get(Slot, slot_id)
    if slot is None:
        raise NotFound("Slot does not exist.")
    specialities = _specialities_of(session, {slot.doctor_id})[slot.doctor_id]
    local = as_utc(slot.start_at).astimezone(clinic.settings.tz)
    return slot, SlotFacts(slot.doctor_id, specialities, local)


def offer_for_slot(clinic: Clinic, actor: Actor, slot_id: int) -> list[WaitlistEntry]:
    """Who waits for this slot, best first (none when it is not free: booked, blocked,
    held or past)."""
    policy.require(actor, Kind.WAITLIST, Action.ASSIGN)
    with clinic.db.read() as session:
        slot, facts = _slot_facts(session, clinic, slot_id)
        waiting = _waiting(session, clinic)
    if not waiting:
        return []
    start = as_utc(slot.start_at)
    free = doctors.free_slots(
        clinic, actor, [slot.doctor_id], start, start + _ONE_MINUTE, limit=None
    )
    if not any(found.id == slot_id for found in free):
        return []
    return offers_for(waiting, facts)


def take_offer(clinic: Clinic, actor: Actor, entry_id: int, slot_id: int) -> Hold:
    """Hold the slot for the entry's patient (the normal hold: of two desks taking an offer
    for one slot, one holds it, the other hears it is locked). Confirm with `fill`."""
    policy.require(actor, Kind.WAITLIST, Action.ASSIGN)
    with clinic.db.read() as session:
        entry = _load(session, entry_id)
        _slot, facts = _slot_facts(session, clinic, slot_id)
    if status_on(entry, clinic.today()) is not WaitlistStatus.ACTIVE:
        raise WaitlistEntryClosed()
    if not fits(entry, facts):
        raise WaitlistNoMatch()
    return hold_slot(clinic, actor, slot_id, entry.patient_id)


def fill(
    clinic: Clinic,
    actor: Actor,
    entry_id: int,
    slot_id: int,
    token: str,
    appointment_type: AppointmentType = AppointmentType.OFFLINE,
    symptoms: str = "",
) -> AppointmentRecord:
    """Book the held slot for the entry's patient and mark the entry filled with the
    appointment, in one transaction: an entry no longer waiting (another desk filled it
    meanwhile, or it was withdrawn) books nothing, and this desk's hold is let go."""
    policy.require(actor, Kind.WAITLIST, Action.ASSIGN)
    with clinic.db.read() as session:
        entry = _load(session, entry_id)
        _slot, facts = _slot_facts(session, clinic, slot_id)
    # A slot held some other way (not by `take_offer`) for the same patient must still be
    # one the entry waits for: the fill is reported as the waitlist's.
    if status_on(entry, clinic.today()) is WaitlistStatus.ACTIVE and not fits(entry, facts):
        raise WaitlistNoMatch()

    def mark_filled(work: UnitOfWork, record: AppointmentRecord) -> None:
        now = clinic.now()
        changed = work.session.execute(
            update(WaitlistEntryRow)
            .where(
                WaitlistEntryRow.id == entry_id,
                WaitlistEntryRow.status == WaitlistStatus.ACTIVE.value,
                WaitlistEntryRow.last_day >= clinic.today(),
            )
            .values(
                status=WaitlistStatus.FILLED.value,
                appointment_id=record.id,
                filled_at=now,
                updated_at=now,
            )
        )
        if not changed.rowcount:  # type: ignore[attr-defined]
            raise WaitlistEntryClosed()
        work.record("fill", "waitlist", entry_id, appointment_id=record.id, slot_id=slot_id)
        _publish(work, _load(work.session, entry_id), "fill")

    try:
        return confirm_booking(
            clinic,
            actor,
            slot_id,
            entry.patient_id,
            token=token,
            appointment_type=appointment_type,
            symptoms=symptoms,
            also=mark_filled,
        )
    except WaitlistEntryClosed:
        _drop_hold(clinic, slot_id, token)
        raise
