"""Records of the admin area's doctors, catalogue and contact inbox (plain, serialisable)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from hms_desktop.domain.models import AppointmentRecord


@dataclass(frozen=True)
class DoctorForm:
    """What the admin's doctor editor sends. A username asks for a log-in: the doctor then
    has an account of their own (with `password`, or a temporary one set later)."""

    first_name: str
    last_name: str = ""
    specialisation_ids: tuple[int, ...] = ()
    designation_ids: tuple[int, ...] = ()
    fee: int | None = None
    description: str = ""
    meet_link: str = ""
    email: str = ""
    username: str = ""
    password: str = ""


@dataclass(frozen=True)
class DoctorRecord:
    """A doctor as the admin edits them: the record, its catalogue links and whether the
    doctor can be booked (`is_active`) and log in (`has_login`)."""

    id: int
    user_id: int
    username: str
    first_name: str
    last_name: str
    email: str
    specialisation_ids: tuple[int, ...]
    specialisations: tuple[str, ...]
    designation_ids: tuple[int, ...]
    designations: tuple[str, ...]
    fee: int | None
    description: str
    meet_link: str
    picture_id: int | None
    is_active: bool
    has_login: bool

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


@dataclass(frozen=True)
class DoctorDeactivation:
    """A deactivated doctor and the booked future appointments the desk must now move."""

    doctor: DoctorRecord
    to_rebook: tuple[AppointmentRecord, ...]


class CatalogueKind(StrEnum):
    """The lists the admin keeps on the catalogue page."""

    SPECIALISATIONS = "specialisations"
    DESIGNATIONS = "designations"
    AVAILABLE_TIMES = "available-times"
    SERVICES = "services"

    @property
    def label(self) -> str:
        return {
            CatalogueKind.SPECIALISATIONS: "Specialisation",
            CatalogueKind.DESIGNATIONS: "Designation",
            CatalogueKind.AVAILABLE_TIMES: "Available time",
            CatalogueKind.SERVICES: "Service",
        }[self]


@dataclass(frozen=True)
class CatalogueEntry:
    """One entry of a catalogue list; `uses`: how many records link to it (doctors, or
    appointment requests for an available time), so a delete can be refused up front."""

    id: int
    kind: CatalogueKind
    name: str
    description: str = ""
    image_id: int | None = None
    uses: int = 0
