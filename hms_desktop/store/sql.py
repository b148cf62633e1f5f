"""SQL building blocks the services share."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, func

_ESCAPE = "\\"


def like_escape(text: str) -> str:
    """`text` with LIKE's wildcards (and the escape character) taken literally."""
    for special in (_ESCAPE, "%", "_"):
        text = text.replace(special, _ESCAPE + special)
    return text


def contains(column: Any, text: str) -> ColumnElement[bool]:
    """Case-insensitive "column contains text", where % and _ in the text are just text."""
    return func.lower(column).like(f"%{like_escape(text.strip().lower())}%", escape=_ESCAPE)
