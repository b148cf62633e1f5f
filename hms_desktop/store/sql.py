"""SQL building blocks the services share."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, func
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

_ESCAPE = "\\"


def like_escape(text: str) -> str:
    """`text` with LIKE's wildcards (and the escape character) taken literally."""
    for special in (_ESCAPE, "%", "_"):
        text = text.replace(special, _ESCAPE + special)
    return text


def contains(column: Any, text: str) -> ColumnElement[bool]:
    """Case-insensitive "column contains text", where % and _ in the text are just text."""
    return has_inside(func.lower(column), text.strip().lower())


def has_inside(expression: Any, text: str) -> ColumnElement[bool]:
    """`expression LIKE '%text%'` with the text taken literally (an index on exactly
    `expression`, such as a trigram index, can serve it)."""
    return expression.like(f"%{like_escape(text)}%", escape=_ESCAPE)


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def insert_new_rows(
    session: Session, table: Any, rows: Sequence[dict[str, Any]], unique: Sequence[str]
) -> None:
    """Insert the rows that are not there yet (by the `unique` columns), in batches: making
    slots twice, or from two processes at once, makes each slot once."""
    insert = postgresql_insert if _dialect(session) == "postgresql" else sqlite_insert
    statement = insert(table).on_conflict_do_nothing(index_elements=list(unique))
    for start in range(0, len(rows), 500):
        session.execute(statement, list(rows[start : start + 500]))


def bytewise(session: Session, expression: Any) -> Any:
    """`expression` compared byte by byte, as the name-prefix index is ordered (PostgreSQL's
    "C" collation; SQLite compares text that way already), so a prefix is one range."""
    return expression.collate("C") if _dialect(session) == "postgresql" else expression
