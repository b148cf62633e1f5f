"""Stored images (profile pictures, service images), reached through signed links.

A picture's link carries a signature made with the server's secret key, so the links the
API hands out work for whoever got them, while pictures cannot be listed by counting ids.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, UploadFile

from hms_desktop.domain.errors import NotFound
from hms_desktop.domain.policy import Action, Kind
from hms_desktop.services import catalogue

from .deps import ClinicDep, CurrentUser, DbInt
from .edge import public_url
from .fields import ShortText
from .openapi import access
from .ratelimit import EVERY_REQUEST

router = APIRouter(tags=["media"], dependencies=EVERY_REQUEST)


def _signature(secret: str, image_id: int) -> str:
    digest = hmac.new(secret.encode(), f"image:{image_id}".encode(), hashlib.sha256)
    return digest.hexdigest()[:32]


@router.get(
    "/media/{image_id}",
    name="media",
    summary="A stored image (the link the API gave, with its signature)",
    response_class=Response,
    responses={200: {"content": {"image/png": {}, "image/jpeg": {}, "image/webp": {}}}},
    openapi_extra=access(Kind.IMAGE, Action.READ),
)
def image(
    image_id: DbInt,
    clinic: ClinicDep,
    user: CurrentUser,
    sig: Annotated[ShortText, Query(description="the link's signature")] = "",
) -> Response:
    expected = _signature(clinic.settings.secret_key, image_id)
    if not hmac.compare_digest(sig.encode(), expected.encode()):
        raise NotFound("Image not found.")
    content_type, data = catalogue.load_image(clinic, user, image_id)
    return Response(
        data,
        media_type=content_type,
        headers={"Cache-Control": "private, max-age=86400", "Content-Disposition": "inline"},
    )


def image_url(request: Request, image_id: int | None) -> str | None:
    if image_id is None:
        return None
    secret = request.app.state.settings.secret_key
    return public_url(request, f"/media/{image_id}", sig=_signature(secret, image_id))


def read_upload(upload: UploadFile | None, max_bytes: int) -> bytes | None:
    """An uploaded file's bytes (None when none was sent). Reading stops one byte past the
    cap, so an oversized upload is refused by the image check without being held whole."""
    if upload is None:
        return None
    return upload.file.read(max_bytes + 1) or None
