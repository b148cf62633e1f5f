"""The admin area over the desk API: staff accounts, the audit log, the clinic's settings;
and everyone's own password change (the one thing a reset account may do)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from hms_desktop.api.deps import ClinicDep, DbInt, DeskUser
from hms_desktop.api.desk.common import answer
from hms_desktop.api.fields import Email, Flag, Instant, JsonInt, Name, Password, Search
from hms_desktop.api.openapi import access
from hms_desktop.api.ratelimit import EVERY_REQUEST
from hms_desktop.domain.admin import (
    AUDIT_PAGE_MAX,
    AuditFilter,
    AuditPage,
    ClinicSettings,
    StaffForm,
    StaffMember,
    TemporaryPassword,
)
from hms_desktop.domain.enums import Role
from hms_desktop.domain.models import UserInfo
from hms_desktop.domain.policy import Action, Kind
from hms_desktop.services import audit, clinic_settings, staff

router = APIRouter(dependencies=EVERY_REQUEST)


class PasswordChangeIn(BaseModel):
    current_password: Password
    new_password: Password


class StaffFormIn(BaseModel):
    username: Name
    role: Role
    first_name: Name
    last_name: Name = ""
    email: Email = ""


class ActiveIn(BaseModel):
    active: Flag


class ClinicSettingsIn(BaseModel):
    name: Name
    booking_horizon_days: JsonInt


@router.put(
    "/session/password",
    response_model=UserInfo,
    summary="Change one's own password (current, then new)",
    openapi_extra=access(Kind.PASSWORD, Action.UPDATE),
)
def change_own_password(body: PasswordChangeIn, clinic: ClinicDep, actor: DeskUser) -> Any:
    return answer(
        staff.change_own_password(clinic, actor, body.current_password, body.new_password)
    )


@router.get(
    "/staff",
    response_model=list[StaffMember],
    summary="Every admin, receptionist and doctor account",
    openapi_extra=access(Kind.STAFF, Action.READ),
)
def list_staff(clinic: ClinicDep, actor: DeskUser) -> Any:
    return answer(staff.list_staff(clinic, actor))


@router.post(
    "/staff",
    response_model=TemporaryPassword,
    status_code=201,
    summary="A new staff account; answers its temporary password (shown once)",
    openapi_extra=access(Kind.STAFF, Action.CREATE),
)
def create_staff(body: StaffFormIn, clinic: ClinicDep, actor: DeskUser) -> Any:
    return answer(staff.create_staff(clinic, actor, StaffForm(**body.model_dump())), 201)


@router.put(
    "/staff/{user_id}/active",
    response_model=StaffMember,
    summary="Deactivate (no more log-ins anywhere; its tokens stop working) or reactivate",
    openapi_extra=access(Kind.STAFF, Action.UPDATE),
)
def set_staff_active(user_id: DbInt, body: ActiveIn, clinic: ClinicDep, actor: DeskUser) -> Any:
    return answer(staff.set_staff_active(clinic, actor, user_id, body.active))


@router.post(
    "/staff/{user_id}/unlock",
    response_model=StaffMember,
    summary="Forget the failed log-ins counted against the account's name",
    openapi_extra=access(Kind.STAFF, Action.UPDATE),
)
def unlock_staff(user_id: DbInt, clinic: ClinicDep, actor: DeskUser) -> Any:
    return answer(staff.unlock_staff(clinic, actor, user_id))


@router.post(
    "/staff/{user_id}/password-reset",
    response_model=TemporaryPassword,
    summary="A temporary password (shown once), to be changed at the next log-in",
    openapi_extra=access(Kind.STAFF, Action.UPDATE),
)
def reset_staff_password(user_id: DbInt, clinic: ClinicDep, actor: DeskUser) -> Any:
    return answer(staff.reset_password(clinic, actor, user_id))


@router.get(
    "/audit",
    response_model=AuditPage,
    summary="Audit entries, newest first, a page at a time (`before_id`: the last page's "
    "`next_before`)",
    openapi_extra=access(Kind.AUDIT, Action.READ),
)
def audit_page(
    clinic: ClinicDep,
    actor: DeskUser,
    actor_name: Annotated[Search, Query(alias="actor")] = "",
    entity: Search = "",
    entity_id: Search = "",
    action: Search = "",
    since: Instant | None = None,
    until: Instant | None = None,
    before_id: DbInt | None = None,
    limit: Annotated[int, Query(ge=1, le=AUDIT_PAGE_MAX)] = 100,
) -> Any:
    where = AuditFilter(actor_name, entity, entity_id, action, since, until)
    return answer(audit.audit_page(clinic, actor, where, before_id=before_id, limit=limit))


@router.get(
    "/clinic-settings",
    response_model=ClinicSettings,
    openapi_extra=access(Kind.SETTINGS, Action.READ),
)
def get_clinic_settings(clinic: ClinicDep, actor: DeskUser) -> Any:
    return answer(clinic_settings.get_clinic_settings(clinic, actor))


@router.put(
    "/clinic-settings",
    response_model=ClinicSettings,
    summary="The clinic's name and booking horizon, for every desk",
    openapi_extra=access(Kind.SETTINGS, Action.UPDATE),
)
def update_clinic_settings(body: ClinicSettingsIn, clinic: ClinicDep, actor: DeskUser) -> Any:
    changes = ClinicSettings(**body.model_dump())
    return answer(clinic_settings.update_clinic_settings(clinic, actor, changes))
