"""Request dependencies, declared once: the clinic, the acting user, rate limits.

Routers take `CurrentUser` (the caller, `ANONYMOUS` without a token) and hand it to a
service; the service asks the access policy. No router decides who may do what.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from hms_desktop.domain.enums import Role
from hms_desktop.domain.errors import NotAuthenticated
from hms_desktop.domain.models import ANONYMOUS, Actor
from hms_desktop.services import accounts
from hms_desktop.services.clinic import Clinic

from . import openapi
from .errors import document_of
from .fields import DbInt
from .sign_ins import SignIns

__all__ = ["ANONYMOUS", "ClinicDep", "CurrentUser", "DbInt", "DeskUser", "PresentedToken"]

# The booking API's session cookie (POST /sessions sets it, DELETE /sessions revokes it).
SESSION_COOKIE = "session"

# Which operations need it, the OpenAPI document says from each route's access entry
# (api/openapi.py).
bearer_scheme = HTTPBearer(
    auto_error=False, description="An access token from POST /api/user/login/ or /desk/v1/session"
)


# Dependencies without I/O are async: FastAPI runs them on the event loop, not a thread.
async def get_clinic(request: Request) -> Clinic:
    return request.app.state.clinic


ClinicDep = Annotated[Clinic, Depends(get_clinic)]


def _booking(request: Request) -> bool:
    return document_of(request.url.path) == "booking"


async def presented_token(
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> str | None:
    """The access token in `Authorization: Bearer`; on the booking API, else its session
    cookie (a cookie opens no other API: it lives days, an access token minutes)."""
    if bearer is not None and bearer.credentials:
        return bearer.credentials
    return (request.cookies.get(SESSION_COOKIE) or None) if _booking(request) else None


PresentedToken = Annotated[str | None, Depends(presented_token)]


async def get_current_user(request: Request, token: PresentedToken) -> Actor:
    """Whoever the token names (an invalid or revoked token is a 401), else anonymous. The
    booking API's session token works on the booking API only. Only a token's check (SQL)
    takes a worker thread, and only when this server keeps no check of it that Redis
    confirms (api/sign_ins.py): the public's calls stay on the event loop."""
    if token is None:
        return ANONYMOUS
    kinds = ("access", "session") if _booking(request) else ("access",)
    sign_ins: SignIns = request.app.state.sign_ins
    return await sign_ins.actor(token, kinds)


CurrentUser = Annotated[Actor, Depends(get_current_user)]


async def refuse_the_public_first(request: Request, user: CurrentUser) -> None:
    """An anonymous call to an operation the policy keeps from the public is a 401 before
    its parameters or body are even looked at (the route declares its policy entry)."""
    if user.role is not Role.ANONYMOUS:
        return
    route = request.scope.get("route")
    access = (getattr(route, "openapi_extra", None) or {}).get(openapi.ACCESS_KEY)
    if access is not None and not openapi.allowed(user, request.url.path, access):
        raise NotAuthenticated()


async def get_desk_user(user: CurrentUser) -> Actor:
    """The caller of the desk API: the policy admits staff and doctors only."""
    return accounts.require_desk(user)


DeskUser = Annotated[Actor, Depends(get_desk_user)]
