"""The desk API's request and response bodies (records travel as `to_jsonable` writes them)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from hms_desktop.api.fields import (
    Day,
    Email,
    Flag,
    JsonInt,
    LongText,
    Name,
    Password,
    ShortText,
    TimeOfDay,
    Token,
)
from hms_desktop.domain.doctor_records import DoctorForm
from hms_desktop.domain.enums import AppointmentStatus, AppointmentType, BlockKind
from hms_desktop.domain.models import PatientForm, TimeBlockForm, UserInfo


class Credentials(BaseModel):
    username: Name
    password: Password
    # The desk's name (its `desk_name` setting, or host name): other desks see its holds as
    # "held at <desk> by <person>". Missing: the client's address.
    desk: Name = ""


class RefreshBody(BaseModel):
    refresh: Token


class SessionOut(BaseModel):
    access: str
    refresh: str
    user: UserInfo


class AccessOut(BaseModel):
    access: str


class PatientFormIn(BaseModel):
    full_name: Name
    gender: Name = ""
    date_of_birth: Day | None = None
    phone: ShortText = ""
    email: Email = ""
    address: ShortText = ""
    username: Name = ""
    password: Password = ""
    messages_opt_out: Flag = False

    def to_form(self) -> PatientForm:
        return PatientForm(**self.model_dump())


class NamedIn(BaseModel):
    name: Name
    slug: Name = ""


class WorkingHoursIn(BaseModel):
    weekday: JsonInt
    start: TimeOfDay
    end: TimeOfDay
    slot_minutes: JsonInt = 30


class HoldIn(BaseModel):
    slot_id: JsonInt
    patient_id: JsonInt


class ReleaseIn(BaseModel):
    token: Token


class Released(BaseModel):
    released: bool


class BookingIn(BaseModel):
    slot_id: JsonInt
    patient_id: JsonInt
    token: Token
    appointment_type: AppointmentType = AppointmentType.OFFLINE
    symptoms: LongText = ""


class SlotIn(BaseModel):
    slot_id: JsonInt


class StatusIn(BaseModel):
    status: AppointmentStatus


class ReasonIn(BaseModel):
    reason: ShortText


class CancelIn(BaseModel):
    # Optional: why the patient cancelled. The service keeps it to 300 characters and says so
    # in the same words on every backend; the body's own bound only stops a flood.
    reason: LongText = ""


class TimeBlockIn(BaseModel):
    doctor_id: JsonInt | None = None  # none: the whole clinic
    first_day: Day
    last_day: Day
    reason: ShortText
    kind: BlockKind = BlockKind.LEAVE
    start_time: TimeOfDay | None = None
    end_time: TimeOfDay | None = None

    def to_form(self) -> TimeBlockForm:
        return TimeBlockForm(**self.model_dump())


# A bulk move names at most this many appointments (a month of one doctor's bookings).
MAX_BULK = 500


class MoveAffectedIn(BaseModel):
    appointment_ids: list[JsonInt] = Field(max_length=MAX_BULK)
    other_doctors: Flag = False


class DoctorFormIn(BaseModel):
    first_name: Name
    last_name: Name = ""
    specialisation_ids: list[JsonInt] = Field(default_factory=list, max_length=100)
    designation_ids: list[JsonInt] = Field(default_factory=list, max_length=100)
    fee: JsonInt | None = None
    description: LongText = ""
    meet_link: ShortText = ""
    email: Email = ""
    username: Name = ""
    password: Password = ""

    def to_form(self) -> DoctorForm:
        values = self.model_dump()
        values["specialisation_ids"] = tuple(self.specialisation_ids)
        values["designation_ids"] = tuple(self.designation_ids)
        return DoctorForm(**values)


class CatalogueEntryIn(BaseModel):
    name: Name | None = None
    description: LongText | None = None


class HandledIn(BaseModel):
    handled: Flag = True
