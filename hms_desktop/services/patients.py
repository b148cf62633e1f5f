"""Patients at the desk: register (with or without a portal login), edit, search, duplicates."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import date

from sqlalchemy import ColumnClause, ColumnElement, func, literal_column, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hms_desktop.domain import phones, policy, validation
from hms_desktop.domain.enums import Role
from hms_desktop.domain.errors import (
    NotFound,
    PatientNotFound,
    PhoneTaken,
    ValidationError,
)
from hms_desktop.domain.messages import OPTED_OUT, MessageState
from hms_desktop.domain.models import Actor, PatientForm, PatientRecord
from hms_desktop.domain.policy import NOBODY, Action, Kind, Owner
from hms_desktop.services import access
from hms_desktop.services.accounts import add_user
from hms_desktop.services.clinic import Clinic
from hms_desktop.store.sql import AnyRow, AnySelect, bytewise, has_inside
from hms_desktop.store.tables import MessageRow, Patient, Profile, User

SEARCH_LIMIT = 50
# Spelled exactly as the expression indexes are, so PostgreSQL can use its trigram index.
_FULL_NAME: ColumnClause[str] = literal_column("users.first_name || ' ' || users.last_name")


def _full_name(user: User) -> str:
    return f"{user.first_name} {user.last_name}".strip()


def _base_query() -> AnySelect:
    # Plain columns, not ORM entities: a search returns up to 50 rows per keystroke.
    return (
        select(
            Patient.id,
            Patient.user_id,
            Patient.phone,
            Patient.messages_opt_out,
            User.username,
            User.first_name,
            User.last_name,
            User.email,
            User.password_hash.is_not(None).label("has_login"),
            Profile.gender,
            Profile.date_of_birth,
            Profile.address,
        )
        .join(User, User.id == Patient.user_id)
        .join(Profile, Profile.user_id == User.id, isouter=True)
    )


def _record(row: AnyRow, region: str) -> PatientRecord:
    return PatientRecord(
        id=row.id,
        user_id=row.user_id,
        username=row.username,
        full_name=f"{row.first_name} {row.last_name}".strip(),
        first_name=row.first_name,
        last_name=row.last_name,
        gender=row.gender or "",
        date_of_birth=row.date_of_birth,
        phone=row.phone,
        email=row.email,
        address=row.address or "",
        has_login=bool(row.has_login),
        phone_display=phones.for_display(row.phone, region=region),
        messages_opt_out=bool(row.messages_opt_out),
    )


def load_record(session: Session, patient_id: int, region: str) -> PatientRecord:
    row = session.execute(_base_query().where(Patient.id == patient_id)).first()
    if row is None:
        raise PatientNotFound()
    return _record(row, region)


def require_patient(
    session: Session, actor: Actor, action: Action, patient_id: int, region: str
) -> PatientRecord:
    """The patient's record, if the actor may take `action` on it. A record the actor may
    not even see is not shown to exist."""
    policy.require(actor, Kind.PATIENT, action)
    record = load_record(session, patient_id, region)
    owner = access.patient_owner(session, patient_id, record.user_id)
    if not policy.allows(actor, Kind.PATIENT, Action.READ, owner):
        raise policy.refusal(actor) if actor.role is Role.ANONYMOUS else PatientNotFound()
    policy.require(actor, Kind.PATIENT, action, owner)
    if action is not Action.READ:
        # A staff member who is also a patient: their name and email are a staff account's.
        role = session.scalar(select(User.role).where(User.id == record.user_id))
        if role != Role.PATIENT.value:
            policy.require(actor, Kind.ACCOUNT, action, Owner(user_id=record.user_id))
    return record


def get_patient(clinic: Clinic, actor: Actor, patient_id: int) -> PatientRecord:
    with clinic.db.read() as session:
        return require_patient(session, actor, Action.READ, patient_id, _region(clinic))


def _region(clinic: Clinic) -> str:
    return clinic.settings.default_phone_region


class _CleanForm:
    """A validated PatientForm; raises ValidationError naming every bad field (`fields`)."""

    def __init__(self, form: PatientForm, today: date, region: str) -> None:
        errors = validation.FieldErrors()
        self.first_name, self.last_name = errors.check(
            lambda: validation.split_full_name(form.full_name), ("", "")
        )
        self.gender = errors.check(lambda: validation.clean_gender(form.gender), "")
        self.date_of_birth = errors.check(
            lambda: validation.clean_birth_date(form.date_of_birth, today=today), None
        )
        self.phone = errors.check(lambda: phones.to_e164(form.phone, region=region), None)
        self.email = errors.check(lambda: validation.clean_email(form.email), "")
        self.address = errors.check(
            lambda: validation.clean_text(
                form.address, field="address", max_length=validation.ADDRESS_MAX
            ),
            "",
        )
        self.username = (form.username or "").strip()
        self.password = form.password or ""
        self.messages_opt_out = bool(form.messages_opt_out)
        if self.username:
            errors.check(lambda: validation.clean_username(self.username), "")
            errors.check(lambda: validation.clean_password(self.password), "")
        elif self.password:
            errors.problems.append(
                ValidationError("Choose a username for the portal login.", field="username")
            )
        errors.raise_if_any()


def _phone_owner(session: Session, phone: str | None) -> int | None:
    if phone is None:
        return None
    return session.scalar(select(Patient.id).where(Patient.phone == phone))


def _flush_phone(session: Session) -> None:
    """Flush; if another desk gave this phone to a patient since our check, the unique
    constraint stops us here and the desk gets the same clear error."""
    try:
        session.flush()
    except IntegrityError as error:
        raise PhoneTaken(field="phone") from error


def register_patient(clinic: Clinic, actor: Actor, form: PatientForm) -> PatientRecord:
    policy.require(actor, Kind.PATIENT, Action.CREATE, NOBODY)
    clean = _CleanForm(form, clinic.today(), _region(clinic))
    with clinic.work(actor) as work:
        session = work.session
        if _phone_owner(session, clean.phone) is not None:
            raise PhoneTaken(field="phone")
        user = add_user(
            session,
            # A patient without a portal login still needs a unique account name.
            username=clean.username or f"patient-{uuid.uuid4().hex[:12]}",
            role=Role.PATIENT,
            password=clean.password or None,
            first_name=clean.first_name,
            last_name=clean.last_name,
            email=clean.email,
            gender=clean.gender,
            date_of_birth=clean.date_of_birth,
            address=clean.address,
        )
        patient = Patient(
            user_id=user.id, phone=clean.phone, messages_opt_out=clean.messages_opt_out
        )
        session.add(patient)
        _flush_phone(session)
        work.record("register", "patient", patient.id, name=_full_name(user))
        return load_record(session, patient.id, _region(clinic))


def update_patient(
    clinic: Clinic, actor: Actor, patient_id: int, form: PatientForm
) -> PatientRecord:
    region = _region(clinic)
    clean = _CleanForm(dataclasses.replace(form, username="", password=""), clinic.today(), region)
    with clinic.work(actor) as work:
        session = work.session
        require_patient(session, actor, Action.UPDATE, patient_id, region)
        patient = session.get(Patient, patient_id)
        assert patient is not None  # require_patient found it
        user, profile = patient.user, patient.user.profile
        owner = _phone_owner(session, clean.phone)
        if owner is not None and owner != patient_id:
            raise PhoneTaken(field="phone")
        user.first_name, user.last_name, user.email = clean.first_name, clean.last_name, clean.email
        patient.phone = clean.phone
        patient.messages_opt_out = clean.messages_opt_out
        if clean.messages_opt_out:
            # What is still waiting will not go (the sender checks again when it sends):
            # the desk sees that at once, not a reminder "pending" until its day.
            session.execute(
                update(MessageRow)
                .where(
                    MessageRow.patient_id == patient_id,
                    MessageRow.state == MessageState.PENDING.value,
                )
                .values(state=MessageState.WITHDRAWN.value, last_error=OPTED_OUT)
            )
        if profile is None:
            profile = Profile(user_id=user.id)
            session.add(profile)
        profile.gender, profile.date_of_birth, profile.address = (
            clean.gender,
            clean.date_of_birth,
            clean.address,
        )
        _flush_phone(session)
        work.record("update", "patient", patient_id)
        return load_record(session, patient_id, region)


def find_likely_duplicates(clinic: Clinic, actor: Actor, form: PatientForm) -> list[PatientRecord]:
    """Patients with the same name and date of birth, or the same phone. The desk asks
    before registering, so a form that would not save answers with all its field errors."""
    policy.require(actor, Kind.PATIENT, Action.READ, NOBODY)
    region = _region(clinic)
    clean = _CleanForm(form, clinic.today(), region)
    conditions: list[ColumnElement[bool]] = []
    if clean.date_of_birth is not None:
        conditions.append(
            (func.lower(User.first_name) == clean.first_name.lower())
            & (func.lower(User.last_name) == clean.last_name.lower())
            & (Profile.date_of_birth == clean.date_of_birth)
        )
    if clean.phone is not None:
        conditions.append(Patient.phone == clean.phone)
    if not conditions:
        return []
    with clinic.db.read() as session:
        rows = session.execute(_base_query().where(or_(*conditions)).limit(10))
        return [_record(row, region) for row in rows]


def search_patients(
    clinic: Clinic, actor: Actor, text: str, limit: int = SEARCH_LIMIT
) -> list[PatientRecord]:
    """Search by a date of birth (2024-03-08, 08/03/2024, 8 Mar 2024), a phone number or its
    beginning in any form (07700 900081, +44 7700..., 0044...), or a fragment of the name,
    among the patients the actor may see (a doctor: those on their schedule)."""
    region = _region(clinic)
    query_text = " ".join(
        validation.check_text(text or "", field="q", max_length=validation.SEARCH_MAX).split()
    )
    query = _base_query().where(
        access.visible(
            actor,
            Kind.PATIENT,
            Action.READ,
            user=Patient.user_id,
            patient=Patient.id,
            seen_by_doctor=Patient.id,
        )
    )
    if not query_text:
        return []
    birth = validation.parse_day(query_text)
    if birth is not None:
        query = query.where(Profile.date_of_birth == birth)
    elif phones.looks_like_phone(query_text):
        # Stored numbers are E.164 (a few left unparsed by the migration: "+digits" or
        # "digits"); a range scan serves each form of the typed number as a prefix.
        query = query.where(
            or_(
                *(
                    Patient.phone.between(prefix, prefix + "~")
                    for prefix in phones.search_prefixes(query_text, region=region)
                )
            )
        )
    else:
        with clinic.db.read() as session:
            return _search_by_name(
                session, query, query_text.lower(), max(1, min(limit, 500)), region
            )
    query = query.order_by(User.first_name, User.last_name, Patient.id).limit(
        max(1, min(limit, 500))
    )
    with clinic.db.read() as session:
        return [_record(row, region) for row in session.execute(query)]


def _search_by_name(
    session: Session, query: AnySelect, fragment: str, limit: int, region: str
) -> list[PatientRecord]:
    """Names that start with the text first, in name order, then names containing it.

    Each step reads at most `limit` rows from an index: the prefix step walks the ordered
    name index, the substring step takes the first matches the trigram index finds. Sorting
    every match of a common fragment (tens of thousands of Smiths) would not be fast."""
    plain = func.lower(_FULL_NAME)
    # PostgreSQL's prefix index is in "C" order, where a prefix is one contiguous range.
    name = bytewise(session, plain)
    # Every name starting with the fragment sorts below it followed by the highest code
    # point (bytewise, as both databases compare here).
    upper = fragment + "\U0010ffff"
    starts_with = (name >= fragment) & (name < upper)
    found = [
        _record(row, region)
        for row in session.execute(query.where(starts_with).order_by(name, User.id).limit(limit))
    ]
    if len(found) < limit:
        contains = query.where(has_inside(plain, fragment), ~starts_with)
        others = [
            _record(row, region) for row in session.execute(contains.limit(limit - len(found)))
        ]
        found += sorted(others, key=lambda record: (record.full_name.lower(), record.id))
    return found


def patient_for_user(clinic: Clinic, actor: Actor, user_id: int) -> PatientRecord:
    with clinic.db.read() as session:
        patient_id = session.scalar(select(Patient.id).where(Patient.user_id == user_id))
        if patient_id is None:
            raise NotFound("Patient not found.")
        return require_patient(session, actor, Action.READ, patient_id, _region(clinic))
