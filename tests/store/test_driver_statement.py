"""The hot path's statements run on psycopg's connection itself (store/sql.DriverStatement);
when PostgreSQL goes away they fail as SQLAlchemy's own execution fails: one request finds
the server gone, and the whole pool is refreshed, not one stale connection per request."""

from __future__ import annotations

from collections.abc import Callable

import psycopg
import pytest
from sqlalchemy import literal, literal_column, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError

from hms_desktop.services.clinic import Clinic
from hms_desktop.store.sql import DriverStatement

ONE = DriverStatement(select(literal(1).label("one")))
POOLED = 6


def _drop_every_connection(clinic: Clinic) -> None:
    """What a restart of PostgreSQL does to the clinic's pooled connections."""
    url = make_url(clinic.settings.database_url)
    admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (url.database,),
        )


@pytest.mark.parametrize("store", ["postgres"], indirect=True)
def test_after_the_server_drops_its_connections_one_call_fails_and_the_pool_is_renewed(
    open_store: Callable[..., Clinic],
) -> None:
    clinic = open_store()
    held = [clinic.db.writer.connect() for _ in range(POOLED)]
    for connection in held:
        assert ONE.first(connection, {}).one == 1
        connection.rollback()
    for connection in held:
        connection.close()  # back in the pool, open
    _drop_every_connection(clinic)
    failures = []
    for _ in range(POOLED + 2):
        try:
            with clinic.db.write_connection() as connection:
                assert ONE.first(connection, {}).one == 1
        except DBAPIError as error:
            failures.append(error)
    assert len(failures) == 1
    assert failures[0].connection_invalidated  # answered 503, not 500 (services/outages)


@pytest.mark.parametrize("store", ["postgres"], indirect=True)
def test_a_failing_statement_fails_as_sqlalchemys_error_and_the_connection_goes_on(
    open_store: Callable[..., Clinic],
) -> None:
    clinic = open_store()
    failing = DriverStatement(select(literal_column("1 / 0").label("never")))
    with pytest.raises(DBAPIError) as raised, clinic.db.write_connection() as connection:
        failing.first(connection, {})
    assert not isinstance(raised.value, IntegrityError)
    assert "division by zero" in str(raised.value.orig)
    with clinic.db.write_connection() as connection:  # the pool's connection is usable again
        assert ONE.first(connection, {}).one == 1
