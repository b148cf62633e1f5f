"""The desk API (`/desk/v1`): the desktop's `Backend` interface over HTTP, for remote desks.

Every route is one `Backend` method: parse, call the same service the local implementation
calls, answer with the record as `to_jsonable` writes it. Errors travel as
`{"error", "kind", "field"}` (api/errors.py) and the client re-raises the same exception.
`GET /desk/v1/events` streams change events as server-sent events.
"""

from __future__ import annotations

from fastapi import APIRouter

from hms_desktop.api import desk_events
from hms_desktop.api.desk import (
    admin,
    admin_doctors,
    calendar,
    clinic,
    leave,
    messages,
    patients,
    reports,
    session,
    waitlist,
)

router = APIRouter(prefix="/desk/v1", tags=["desk"])
# In the order the routes were declared: the public log-in routes first.
router.include_router(session.public)
for part in (session, patients, clinic, calendar, admin, admin_doctors, leave, reports):
    router.include_router(part.router)
router.include_router(waitlist.router)  # waitlist
router.include_router(messages.router)  # reminders
router.include_router(desk_events.router)
