"""The per-caller request budget every endpoint shares. Patients (and the anonymous) get
`rate_limit_default`: per user with a token, per client address without. The clinic's own
people (staff and doctors, whose desks work all day) get `rate_limit_desk`, counted per
account and desk address: one shared reception account on five desks is five budgets.
Counters live where the clinic's throttle keeps them (Redis when configured, so every
server process shares them)."""

from __future__ import annotations

from fastapi import Depends, Request

from hms_desktop.domain.enums import Role
from hms_desktop.domain.errors import RateLimited

from .deps import ClinicDep, CurrentUser, refuse_the_public_first


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


DESK_ROLES = frozenset({Role.ADMIN, Role.RECEPTIONIST, Role.DOCTOR})


def default_rate_limit(request: Request, clinic: ClinicDep, user: CurrentUser) -> None:
    settings, address = clinic.settings, f"addr:{client_address(request)}"
    if user.role in DESK_ROLES:
        bucket, setting, key = "desk", settings.rate_limit_desk, f"user:{user.user_id}:{address}"
    else:
        bucket, setting = "default", settings.rate_limit_default
        key = f"user:{user.user_id}" if user.user_id is not None else address
    limit = clinic.throttle.parse(setting)
    if not clinic.throttle.hit(limit, bucket, key):
        raise RateLimited.after(clinic.throttle.retry_after(limit, bucket, key) or 1)


# What every route of the three APIs runs first: the public refused where the policy keeps
# it out (before the body is read), then the caller's request budget.
EVERY_REQUEST = [Depends(refuse_the_public_first), Depends(default_rate_limit)]
