"""Pictures as the clinic accepts them: real PNG, JPEG or WebP, capped in bytes and pixels.

One check for every way a picture arrives (an API upload, the admin's file chooser), so the
desk refuses a file next to its field with the same words the server would answer.
"""

from __future__ import annotations

import io

from PIL import Image, UnidentifiedImageError

from hms_desktop.domain.errors import ValidationError

IMAGE_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}
NOT_AN_IMAGE = "Upload a valid PNG, JPEG or WebP image."
# The settings' defaults (`image_max_bytes`, `image_max_pixels`): what a desk checks a chosen
# file against before sending it; the server checks again with the clinic's own settings.
DEFAULT_MAX_BYTES = 2 * 1024 * 1024
DEFAULT_MAX_PIXELS = 12_000_000


def check_picture_file(data: bytes, *, field: str) -> bytes:
    """A picture as the desk will send it, or the error the server would answer."""
    reencode_image(data, max_bytes=DEFAULT_MAX_BYTES, max_pixels=DEFAULT_MAX_PIXELS, field=field)
    return data


def _too_many_pixels(max_pixels: int) -> str:
    return f"Image is too large (at most {max_pixels / 1e6:g} megapixels)."


def reencode_image(
    data: bytes, *, max_bytes: int, max_pixels: int, field: str = "image"
) -> tuple[str, bytes]:
    """The picture decoded and written afresh in its own format: what is stored is only
    the image (no trailing bytes, no metadata), and a picture of more than `max_pixels`
    is refused from its header, before a decompression bomb is ever decoded."""
    if len(data) > max_bytes:
        message = f"Image is too large (at most {max_bytes // 1024} KiB)."
        raise ValidationError(message, field=field)
    try:
        with Image.open(io.BytesIO(data)) as picture:
            kind = picture.format or ""
            if kind not in IMAGE_TYPES:
                raise ValidationError(NOT_AN_IMAGE, field=field)
            width, height = picture.size
            if width * height > max_pixels:
                raise ValidationError(_too_many_pixels(max_pixels), field=field)
            picture.load()
            # Nothing but the pixels goes back out: no comment, profile or EXIF segments
            # (a palette's transparency is part of the picture).
            picture.info = {
                key: value for key, value in picture.info.items() if key == "transparency"
            }
            written = io.BytesIO()
            picture.save(written, format=kind)
    except Image.DecompressionBombError as error:  # Pillow's own, far larger, limit
        raise ValidationError(_too_many_pixels(max_pixels), field=field) from error
    except (UnidentifiedImageError, OSError, SyntaxError) as error:
        raise ValidationError(NOT_AN_IMAGE, field=field) from error
    except ValueError as error:  # Pillow's answer to some malformed headers
        raise ValidationError(NOT_AN_IMAGE, field=field) from error
    return IMAGE_TYPES[kind], written.getvalue()
