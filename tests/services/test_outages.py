"""Which failures are a store that is away (503) and which are bugs (500): real errors from
real drivers, not hand-made exceptions."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from hms_desktop.domain.errors import DatabaseUnavailable, RedisUnavailable
from hms_desktop.services.outages import outage
from tests.live_server import free_port


def _raised(call) -> BaseException:  # type: ignore[no-untyped-def]
    with pytest.raises(Exception) as raised:
        call()
    return raised.value


def test_a_refused_postgres_connection_is_the_database_away() -> None:
    engine = create_engine(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/postgres")
    error = _raised(lambda: engine.connect())
    assert isinstance(error, DBAPIError)
    assert isinstance(outage(error), DatabaseUnavailable)


def test_a_refused_redis_connection_is_the_lock_store_away() -> None:
    client = redis.Redis(port=free_port(), socket_connect_timeout=1)
    assert isinstance(outage(_raised(client.ping)), RedisUnavailable)


def test_a_busy_sqlite_file_is_away_but_a_wrong_statement_is_a_bug(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'busy.db'}"
    engine = create_engine(url, connect_args={"timeout": 0.05, "isolation_level": None})
    with engine.connect() as writer, engine.connect() as other:
        writer.exec_driver_sql("CREATE TABLE t (x INTEGER)")
        writer.exec_driver_sql("BEGIN EXCLUSIVE")
        locked = _raised(lambda: other.exec_driver_sql("INSERT INTO t VALUES (1)"))
        writer.exec_driver_sql("ROLLBACK")
        wrong = _raised(lambda: other.execute(text("SELECT * FROM no_such_table")))
    assert isinstance(outage(locked), DatabaseUnavailable)
    assert outage(wrong) is None
    assert outage(ValueError("no store at all")) is None
