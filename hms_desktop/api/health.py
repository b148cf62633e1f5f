"""`GET /health`: whether this server can do its work, for a load balancer, systemd or a
monitoring check. No log-in, and nothing in it an outsider could use (no versions, hosts
or error texts): 200 when the database and Redis answer, 503 when either does not."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from hms_desktop.services import health as checks

from .deps import ClinicDep
from .errors import OUTAGE_RETRY_SECONDS
from .openapi import PUBLIC, access

router = APIRouter(tags=["meta"])


@router.get(
    "/health",
    summary="Database and Redis status (200 healthy, 503 not); no log-in",
    responses={503: {"description": "The database or Redis does not answer"}},
    openapi_extra=access(PUBLIC),
)
def health(clinic: ClinicDep) -> JSONResponse:
    found = checks.health(clinic)
    healthy = checks.is_healthy(found)
    body = {"status": "ok" if healthy else "unavailable", **found}
    if healthy:
        return JSONResponse(body)
    return JSONResponse(body, status_code=503, headers={"Retry-After": str(OUTAGE_RETRY_SECONDS)})
