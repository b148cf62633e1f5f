"""What the hospital API's resources share: the document's 204 for a delete, and PUT and
PATCH served by one handler (every field optional), as Django REST framework does."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Response, status

from hms_desktop.domain.policy import Action, Kind

from ..openapi import access


def gone() -> Response:
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def deleted(kind: Kind) -> dict[str, Any]:
    """A DELETE route's arguments: 204 No Content, and the policy entry it serves."""
    return {"status_code": status.HTTP_204_NO_CONTENT, "openapi_extra": access(kind, Action.DELETE)}


def put_and_patch(
    router: APIRouter,
    path: str,
    handler: Callable[..., Any],
    response_model: type,
    entry: dict[str, Any],
) -> None:
    """Serve PUT and PATCH of `path` with one handler whose fields are all optional."""
    name = handler.__name__.lstrip("_")
    for method, operation in (("put", name), ("patch", name.replace("update_", "patch_"))):
        getattr(router, method)(
            path, response_model=response_model, operation_id=operation, openapi_extra=entry
        )(handler)
