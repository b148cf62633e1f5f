"""Stored images (profile pictures, service images), served to every client."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, UploadFile

from hms_desktop.services import catalogue

from .deps import ClinicDep, DbInt

router = APIRouter(tags=["media"])


@router.get(
    "/media/{image_id}",
    name="media",
    summary="A stored image",
    response_class=Response,
    responses={200: {"content": {"image/png": {}, "image/jpeg": {}, "image/webp": {}}}},
)
def image(image_id: DbInt, clinic: ClinicDep) -> Response:
    content_type, data = catalogue.load_image(clinic, image_id)
    return Response(
        data, media_type=content_type, headers={"Cache-Control": "public, max-age=86400"}
    )


def image_url(request: Request, image_id: int | None) -> str | None:
    if image_id is None:
        return None
    return str(request.url_for("media", image_id=image_id))


def read_upload(upload: UploadFile | None, max_bytes: int) -> bytes | None:
    """An uploaded file's bytes (None when none was sent). Reading stops one byte past the
    cap, so an oversized upload is refused by the image check without being held whole."""
    if upload is None:
        return None
    return upload.file.read(max_bytes + 1) or None
