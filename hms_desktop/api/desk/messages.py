"""Reminders over the desk API: the messages written for a patient and their state."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from hms_desktop.api.deps import ClinicDep, DbInt, DeskUser
from hms_desktop.api.desk.common import answer
from hms_desktop.api.openapi import access
from hms_desktop.api.ratelimit import EVERY_REQUEST
from hms_desktop.domain.messages import MessageRecord
from hms_desktop.domain.policy import Action, Kind
from hms_desktop.services import outbox

router = APIRouter(dependencies=EVERY_REQUEST)


@router.get(
    "/patients/{patient_id:int}/messages",
    response_model=list[MessageRecord],
    summary="A patient's confirmations, reminders and notices, newest first, with their state",
    openapi_extra=access(Kind.MESSAGES, Action.READ),
)
def patient_messages(patient_id: DbInt, clinic: ClinicDep, actor: DeskUser) -> Any:
    return answer(outbox.patient_messages(clinic, actor, patient_id))
