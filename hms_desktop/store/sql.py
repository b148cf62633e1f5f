"""SQL building blocks the services share."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeAlias, cast

import psycopg
from psycopg.rows import namedtuple_row
from sqlalchemy import ColumnElement, Connection, Row, Select, func, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.postgresql.psycopg import dialect as psycopg_dialect
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ClauseElement, Executable

from hms_desktop.domain.models import Page

# A query or row of any columns: SQLAlchemy 2.1 types each column, and the services' shared
# query builders are used with more columns added or a different projection.
AnySelect: TypeAlias = Select[*tuple[Any, ...]]
AnyRow: TypeAlias = Row[*tuple[Any, ...]]

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
) -> int:
    """Insert the rows that are not there yet (by the `unique` columns), in batches: making
    slots twice, or from two processes at once, makes each slot once. Returns how many it
    inserted (RETURNING names only the rows that were new, so the count is exact even when
    another process inserted some of them first)."""
    insert = postgresql_insert if _dialect(session) == "postgresql" else sqlite_insert
    core = table.__table__
    statement = (
        insert(core)
        .on_conflict_do_nothing(index_elements=list(unique))
        .returning(core.c[unique[0]])
    )
    made = 0
    connection = session.connection()
    for start in range(0, len(rows), 500):
        made += len(connection.execute(statement, list(rows[start : start + 500])).all())
    return made


def bytewise(session: Session, expression: Any) -> Any:
    """`expression` compared byte by byte, as the name-prefix index is ordered (PostgreSQL's
    "C" collation; SQLite compares text that way already), so a prefix is one range."""
    return expression.collate("C") if _dialect(session) == "postgresql" else expression


def page_of(
    session: Session,
    query: AnySelect,
    offset: int,
    limit: int | None,
    convert: Callable[[AnyRow], Any],
) -> Page:
    """One page of `query`'s rows (in its order), converted, with the count of all of them."""
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    page = query.offset(offset)
    if limit is not None:
        page = page.limit(limit)
    return Page(items=tuple(convert(row) for row in session.execute(page)), total=total or 0)


class DriverStatement:
    """A hot path's statement compiled once for psycopg and run on the SQLAlchemy
    connection's own psycopg connection, in its transaction: the same SQL text SQLAlchemy
    sends, without its per-execution work (execution context, result set-up, event
    dispatch), which was a fifth of a booking's CPU in process. Rows come as psycopg gives
    them (named tuples; SQLAlchemy converts none of these columns on PostgreSQL). On SQLite
    the statement runs through SQLAlchemy as any other."""

    def __init__(self, statement: ClauseElement) -> None:
        if not isinstance(statement, Executable):
            raise TypeError(f"not a statement: {statement!r}")
        self.statement = statement
        dialect = psycopg_dialect()
        compiled = cast(SQLCompiler, statement.compile(dialect=dialect))
        # What SQLAlchemy would do per execution and this does not: render an expanding IN
        # or a literal_execute parameter, convert a value in or out. None of these in a
        # statement run here (a NULL literal would be taken for a value the caller binds).
        # Refused when the module is imported, not left to assertions `python -O` drops.
        if compiled.post_compile_params or compiled.literal_execute_params:
            raise ValueError("a parameter SQLAlchemy renders per execution")
        if any(
            bind.type.dialect_impl(dialect).bind_processor(dialect) is not None
            for bind in compiled.binds.values()
        ):
            raise ValueError("a parameter SQLAlchemy would convert")
        if any(
            column.type.dialect_impl(dialect).result_processor(dialect, None) is not None
            for column in getattr(statement, "selected_columns", ())
        ):
            raise ValueError("a column SQLAlchemy would convert")
        self.sql = str(compiled)
        # The values the statement binds itself (its literals); callers bind the rest.
        self.literals = {key: value for key, value in compiled.params.items() if value is not None}

    def first(self, connection: Connection, values: Mapping[str, Any]) -> Any:
        """The first row, or None. A driver error is raised as SQLAlchemy raises it (an
        `IntegrityError`, an `OperationalError`...), the connection invalidated when it is
        lost, as SQLAlchemy does: what callers catch and the API answers stays the same."""
        if connection.dialect.driver != "psycopg":
            return connection.execute(self.statement, dict(values)).first()
        driver = connection.connection.driver_connection
        assert driver is not None  # a live connection's
        parameters = {**self.literals, **values}
        try:
            with driver.cursor(row_factory=namedtuple_row) as cursor:
                cursor.execute(self.sql, parameters)
                return cursor.fetchone()
        except psycopg.Error as error:
            lost = connection.dialect.is_disconnect(cast(Any, error), driver, None)
            if lost:
                # As SQLAlchemy's own handler does: the server went away, so every pooled
                # connection made before now is stale too (one failed request, not one per
                # pooled connection, after a restart of PostgreSQL).
                connection.engine.pool._invalidate(connection.connection, error)
                connection.invalidate(error)
            raise DBAPIError.instance(
                self.sql,
                parameters,
                error,
                psycopg.Error,
                connection_invalidated=lost,
                dialect=connection.dialect,
            ) from error
        except BaseException:
            connection.invalidate()  # interrupted mid-statement: the connection's state is unknown
            raise
