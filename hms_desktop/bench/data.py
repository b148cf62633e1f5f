"""Set-based generation of large, plausible clinic data straight in PostgreSQL (benchmarks
only: millions of rows in seconds, where the service layer would take hours)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, event, text

# Most frequent first: names are drawn with a skew towards the start of each list, so some
# surnames are common (many matches) and others rare, as in a real register.
FIRST_NAMES = (  # noqa: SIM905 - a word list reads best as words
    "James Mary John Patricia Robert Jennifer Michael Linda David Elizabeth William Barbara "
    "Richard Susan Joseph Jessica Thomas Sarah Charles Karen Mohammed Fatima Ahmed Aisha Wei "
    "Mei Hiroshi Yuki Raj Priya Arjun Ananya Carlos Maria Jose Lucia Luca Giulia Hans Anna "
    "Pierre Claire Ivan Olga Piotr Ewa Kwame Amara Chidi Ngozi Omar Leila Noah Olivia Liam Emma "
    "Oliver Ava Elijah Sophia Lucas Isabella Mateo Amelia Ethan Mia Samuel Harper Daniel Evelyn "
    "Hamza Zara Tomasz Agnieszka Kenji Sakura Rohan Kavya Diego Camila Felix Greta Sven Ingrid "
    "Aleksander Natalia Yusuf Amina Tariq Salma Dmitri Irina Bjorn Freya Mateus Beatriz Kofi "
    "Abena Jun Hana Min Jisoo Ali Noor Ibrahim Mariam Rafael Carmen Andrei Elena Jakub Zuzana"
).split()
LAST_NAMES = (  # noqa: SIM905 - a word list reads best as words
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Patel Khan "
    "Singh Nguyen Chen Wang Li Kim Lee Park Ahmed Ali Hussain Rahman Taylor Anderson Thomas "
    "Moore Jackson Martin Thompson White Lopez Gonzalez Harris Clark Lewis Robinson Walker "
    "Perez Hall Young Allen Sanchez Wright King Scott Green Baker Adams Nelson Hill Ramirez "
    "Campbell Mitchell Roberts Carter Phillips Evans Turner Torres Parker Collins Edwards "
    "Stewart Flores Morris Murphy Cook Rogers Morgan Peterson Cooper Reed Bailey Bell Gomez "
    "Kelly Howard Ward Cox Diaz Richardson Wood Watson Brooks Bennett Gray James Reyes Cruz "
    "Hughes Price Myers Long Foster Sanders Ross Morales Powell Sullivan Russell Ortiz Jenkins "
    "Gutierrez Perry Butler Barnes Fisher Henderson Coleman Simmons Patterson Jordan Reynolds "
    "Hamilton Graham Kowalski Nowak Wisniewski Muller Schmidt Schneider Fischer Weber Meyer "
    "Rossi Russo Ferrari Esposito Bianchi Romano Dubois Moreau Laurent Lefebvre Ivanov Petrov "
    "Smirnov Tanaka Suzuki Takahashi Watanabe Sato Okafor Mensah Adeyemi Osei Boateng Mwangi "
    "Haddad Nasser Cohen Levi Friedman Andersson Johansson Larsen Nielsen Hansen Novak Horvat "
    "Silva Santos Oliveira Costa Pereira Fernandes Sharma Gupta Das Reddy Iyer Menon Nair"
).split()


def name_arrays() -> dict[str, list[str]]:
    return {"firsts": list(FIRST_NAMES), "lasts": list(LAST_NAMES)}


def _skewed(seed_sql: str, array: str) -> str:
    """SQL for a skewed pick from an array parameter: index ~ n * u^1.3 with u uniform from
    PostgreSQL's integer hash (independent per seed), so the first entry of a list is drawn
    about 2% of the time and the last rarely."""
    uniform = f"((hashint4({seed_sql})::bigint + 2147483648) / 4294967296.0)"
    return f"({array})[1 + floor(array_length({array}, 1) * power({uniform}, 1.3))::int]"


def insert_users(
    connection: Connection, *, role: str, count: int, username_prefix: str, seed: int = 0
) -> None:
    """`count` users of `role` with skewed plausible names and a profile each."""
    first = _skewed(f"n * 2 + {seed}", "CAST(:firsts AS text[])")
    last = _skewed(f"n * 2 + {seed + 1}", "CAST(:lasts AS text[])")
    connection.execute(
        text(
            "INSERT INTO users (username, email, first_name, last_name, password_hash, role, "
            "is_staff, is_active, date_joined, failed_logins) "
            f"SELECT :prefix || n, '', {first}, {last}, NULL, :role, false, true, now(), 0 "
            "FROM generate_series(1, :count) AS n"
        ),
        {"prefix": username_prefix, "role": role, "count": count, **name_arrays()},
    )
    connection.execute(
        text(
            "INSERT INTO profiles (user_id, bio, address, date_of_birth, gender, created_at, "
            "updated_at) "
            "SELECT id, '', '', DATE '1935-01-01' + ((id::bigint * 7919) % 32000)::int, "
            "CASE id % 2 WHEN 0 THEN 'female' ELSE 'male' END, now(), now() "
            "FROM users WHERE role = :role AND username LIKE :pattern"
        ),
        {"role": role, "pattern": f"{username_prefix}%"},
    )


def insert_patients(connection: Connection, count: int) -> None:
    """Patients with distinct UK mobile numbers (+447 and nine digits: id * 3^18 mod 10^9
    is a bijection, so they are unique and spread out)."""
    insert_users(connection, role="patient", count=count, username_prefix="patient-")
    connection.execute(
        text(
            "INSERT INTO patients (user_id, phone) "
            "SELECT id, '+447' || lpad(((id::bigint * 387420489) % 1000000000)::text, 9, '0') "
            "FROM users WHERE role = 'patient'"
        )
    )


@contextmanager
def timed(figures: dict[str, float], name: str) -> Iterator[None]:
    started = time.perf_counter()
    yield
    figures[name] = round(time.perf_counter() - started, 2)


def capture_statements(engine: Engine, call: Callable[[], object]) -> list[tuple[str, dict]]:
    """The SQL (with parameters) an engine ran during `call()`."""
    seen: list[tuple[str, dict]] = []

    def _record(_conn, _cursor, statement, parameters, _context, _many) -> None:  # type: ignore[no-untyped-def]
        seen.append((statement, dict(parameters or {})))

    event.listen(engine, "before_cursor_execute", _record)
    try:
        call()
    finally:
        event.remove(engine, "before_cursor_execute", _record)
    return seen


def explain(connection: Connection, statement: str, parameters: dict) -> str:
    plan = connection.exec_driver_sql(
        "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + statement, parameters
    ).scalars()
    return "\n".join(plan)
