"""Logging in and out at a desk, and who is logged in."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Request

from hms_desktop.api.deps import ClinicDep, DeskUser, PresentedToken
from hms_desktop.api.desk.bodies import AccessOut, Credentials, RefreshBody, SessionOut
from hms_desktop.api.desk.common import answer
from hms_desktop.api.openapi import PUBLIC, access
from hms_desktop.api.ratelimit import EVERY_REQUEST, client_address
from hms_desktop.domain.errors import TokenInvalid
from hms_desktop.domain.models import UserInfo
from hms_desktop.domain.policy import Action, Kind
from hms_desktop.services import accounts

log = logging.getLogger(__name__)

# The log-in itself is throttled per client and name, not by the per-user budget.
public = APIRouter()
router = APIRouter(dependencies=EVERY_REQUEST)


@public.post(
    "/session",
    response_model=SessionOut,
    summary="Log in (staff and doctors): access + refresh tokens",
    openapi_extra=access(PUBLIC),
)
def login(body: Credentials, request: Request, clinic: ClinicDep) -> Any:
    user = accounts.log_in_at_desk(
        clinic, body.username, body.password, client=client_address(request)
    )
    desk = body.desk.strip() or client_address(request)
    tokens = accounts.issue_tokens(clinic, user, desk=desk)
    return answer({"access": tokens.access, "refresh": tokens.refresh, "user": user})


@public.post(
    "/session/refresh",
    response_model=AccessOut,
    summary="A new access token",
    openapi_extra=access(PUBLIC),
)
def refresh(body: RefreshBody, clinic: ClinicDep) -> Any:
    return answer({"access": accounts.refresh_access(clinic, body.refresh)})


@public.post(
    "/session/logout",
    status_code=204,
    summary="Log out: both tokens are revoked",
    openapi_extra=access(PUBLIC),
)
def logout(body: RefreshBody, clinic: ClinicDep, token: PresentedToken) -> None:
    accounts.revoke_token(clinic, body.refresh, ("refresh",))
    if token is not None:
        try:
            accounts.revoke_token(clinic, token, ("access",))
        except TokenInvalid:
            log.debug("logout: the access token had already expired")


@router.get(
    "/session",
    response_model=UserInfo,
    summary="Who is logged in",
    openapi_extra=access(Kind.ACCOUNT, Action.READ),
)
def current_session(clinic: ClinicDep, actor: DeskUser) -> Any:
    return answer(accounts.get_user(clinic, actor, actor.user_id or 0))
