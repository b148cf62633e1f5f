"""The desk API's request and response bodies (records travel as `to_jsonable` writes them)."""

from __future__ import annotations

from pydantic import BaseModel

from hms_desktop.api.deps import DbInt
from hms_desktop.api.fields import Day, Email, LongText, Name, Password, ShortText, TimeOfDay, Token
from hms_desktop.domain.enums import AppointmentStatus, AppointmentType
from hms_desktop.domain.models import PatientForm, UserInfo


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

    def to_form(self) -> PatientForm:
        return PatientForm(**self.model_dump())


class NamedIn(BaseModel):
    name: Name
    slug: Name = ""


class WorkingHoursIn(BaseModel):
    weekday: DbInt
    start: TimeOfDay
    end: TimeOfDay
    slot_minutes: DbInt = 30


class SlotCount(BaseModel):
    slots: int


class HoldIn(BaseModel):
    slot_id: DbInt
    patient_id: DbInt


class ReleaseIn(BaseModel):
    token: Token


class Released(BaseModel):
    released: bool


class BookingIn(BaseModel):
    slot_id: DbInt
    patient_id: DbInt
    token: Token
    appointment_type: AppointmentType = AppointmentType.OFFLINE
    symptoms: LongText = ""


class SlotIn(BaseModel):
    slot_id: DbInt


class StatusIn(BaseModel):
    status: AppointmentStatus


class ReasonIn(BaseModel):
    reason: ShortText
