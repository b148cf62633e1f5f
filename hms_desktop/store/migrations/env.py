"""Alembic environment: the URL comes from the caller (hms-desktop db upgrade)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from hms_desktop.store.tables import Base

config = context.config
url = config.get_main_option("sqlalchemy.url")


def run_migrations() -> None:
    connectable = config.attributes.get("connection")
    if connectable is not None:
        _run(connectable)
        return
    if url is None:
        raise RuntimeError("No database URL: run migrations through hms-desktop db upgrade")
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
