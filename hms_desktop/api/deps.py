"""Request dependencies, declared once: the clinic, the acting user, rate limits."""

from __future__ import annotations

from typing import Annotated

import annotated_types
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from hms_desktop.domain.enums import Role
from hms_desktop.domain.models import Actor
from hms_desktop.services import accounts
from hms_desktop.services.clinic import Clinic

from .errors import NotAuthenticated

# The booking API's session cookie (POST /sessions sets it, DELETE /sessions revokes it).
SESSION_COOKIE = "session"

# Who the audit trail names when someone without an account writes (a contact message).
ANONYMOUS = Actor(user_id=None, username="anonymous", role=Role.PATIENT)

_bearer = HTTPBearer(auto_error=False, description="An access token from POST /api/user/login/")


# Dependencies without I/O are async: FastAPI runs them on the event loop, not a thread.
async def get_clinic(request: Request) -> Clinic:
    return request.app.state.clinic


# A number from a request (id, fee, ...) stays within the database's integer range, so an
# absurd value is a 400, never an overflow deep in the driver.
DbInt = Annotated[int, annotated_types.Interval(ge=-(2**31), le=2**31 - 1)]

ClinicDep = Annotated[Clinic, Depends(get_clinic)]
BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def presented_token(request: Request, bearer: HTTPAuthorizationCredentials | None) -> str | None:
    """The access token in `Authorization: Bearer`, else the session cookie."""
    if bearer is not None and bearer.credentials:
        return bearer.credentials
    return request.cookies.get(SESSION_COOKIE) or None


def get_optional_user(request: Request, clinic: ClinicDep, bearer: BearerDep) -> Actor | None:
    token = presented_token(request, bearer)
    if token is None:
        return None
    return accounts.verify_token(clinic, token)


async def get_current_user(user: Annotated[Actor | None, Depends(get_optional_user)]) -> Actor:
    if user is None:
        raise NotAuthenticated()
    return user


OptionalUser = Annotated[Actor | None, Depends(get_optional_user)]
CurrentUser = Annotated[Actor, Depends(get_current_user)]
