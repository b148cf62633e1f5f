"""The per-caller request budget every endpoint shares (`rate_limit_default`): per user
with a token, per client address without. Counters live where the clinic's throttle keeps
them (Redis when configured, so every server process shares them)."""

from __future__ import annotations

from fastapi import Depends, Request

from hms_desktop.domain.errors import RateLimited

from .deps import ClinicDep, CurrentUser, refuse_the_public_first


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def default_rate_limit(request: Request, clinic: ClinicDep, user: CurrentUser) -> None:
    key = f"user:{user.user_id}" if user.user_id is not None else f"addr:{client_address(request)}"
    limit = clinic.throttle.parse(clinic.settings.rate_limit_default)
    if not clinic.throttle.hit(limit, "default", key):
        raise RateLimited.after(clinic.throttle.retry_after(limit, "default", key) or 1)


# What every route of the three APIs runs first: the public refused where the policy keeps
# it out (before the body is read), then the caller's request budget.
EVERY_REQUEST = [Depends(refuse_the_public_first), Depends(default_rate_limit)]
