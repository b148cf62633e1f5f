"""What every desk route shares."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

from hms_desktop.domain.models import to_jsonable


def answer(value: Any, status_code: int = 200) -> JSONResponse:
    """A record (or records) as the desk client decodes them (`client/codec.py`)."""
    return JSONResponse(to_jsonable(value), status_code=status_code)
