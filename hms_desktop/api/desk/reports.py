"""Reports over the desk API: a range of the clinic's days, per doctor or per speciality."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from hms_desktop.api.deps import ClinicDep, DeskUser
from hms_desktop.api.desk.common import answer
from hms_desktop.api.fields import Day
from hms_desktop.api.openapi import access
from hms_desktop.api.ratelimit import EVERY_REQUEST
from hms_desktop.domain.policy import Action, Kind
from hms_desktop.domain.reports import Report, ReportGroup
from hms_desktop.services import reports

router = APIRouter(dependencies=EVERY_REQUEST)


@router.get(
    "/reports",
    response_model=Report,
    summary="Booked, attended, no-show and cancelled counts, utilisation, lead and waiting "
    "times for the clinic's days `first` to `last`, per doctor or per speciality",
    openapi_extra=access(Kind.REPORTS, Action.READ),
)
def report(clinic: ClinicDep, actor: DeskUser, first: Day, last: Day, group: ReportGroup) -> Any:
    return answer(reports.report(clinic, actor, first, last, group))
