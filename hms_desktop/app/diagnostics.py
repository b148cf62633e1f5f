"""`hms-desktop check`: the effective configuration and whether each store answers."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

import httpx
import redis
from sqlalchemy import create_engine, pool, text
from sqlalchemy.exc import SQLAlchemyError

import hms_desktop
from hms_desktop.config import Settings
from hms_desktop.logs import log_file_path
from hms_desktop.store import meta, schema

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 3.0
NOT_A_CLINIC_SERVER = "this is not an hms-desktop clinic server (check api_url)"


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str


def check_database(settings: Settings) -> CheckResult:
    url = settings.effective_database_url
    engine = create_engine(url, poolclass=pool.NullPool, **_connect_timeout(url))
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        return CheckResult("database", False, f"not reachable: {_first_line(error)}")
    finally:
        engine.dispose()
    return CheckResult("database", True, "answers")


def _connect_timeout(url: str) -> dict[str, object]:
    if url.startswith("postgresql"):
        return {"connect_args": {"connect_timeout": int(TIMEOUT_SECONDS)}}
    return {}


def check_schema(settings: Settings) -> CheckResult:
    head = schema.head_revision()
    try:
        current = schema.current_revision(settings.effective_database_url)
    except SQLAlchemyError as error:
        return CheckResult("schema", False, f"unknown: {_first_line(error)}")
    if current != head:
        return CheckResult(
            "schema",
            False,
            f"revision {current or '(none)'}, head is {head}: run `hms-desktop db upgrade`",
        )
    return CheckResult("schema", True, f"revision {current} (head)")


def check_version_gate(settings: Settings) -> CheckResult:
    """Whether this hms-desktop version may use the database (`db require-version`)."""
    from hms_desktop.services.version_gate import gate_problem

    try:
        problem = gate_problem(settings)
    except SQLAlchemyError as error:
        return CheckResult("version", False, f"unknown: {_first_line(error)}")
    if problem is not None:
        return CheckResult("version", False, problem)
    required = meta.read_meta(settings.effective_database_url).get(meta.MIN_DESKTOP_VERSION)
    allowed = f"the database allows {required} or newer" if required else "no minimum set"
    return CheckResult("version", True, f"hms-desktop {hms_desktop.__version__}; {allowed}")


def check_last_backup(settings: Settings) -> CheckResult:
    """When `hms-desktop backup` last ran against this database (informational)."""
    try:
        entries = meta.read_meta(settings.effective_database_url)
    except SQLAlchemyError as error:
        return CheckResult("backup", False, f"unknown: {_first_line(error)}")
    when = entries.get(meta.LAST_BACKUP_AT)
    if not when:
        return CheckResult("backup", True, "none recorded yet (`hms-desktop backup FILE`)")
    return CheckResult("backup", True, f"last made {when} to {entries.get(meta.LAST_BACKUP_FILE)}")


def check_redis(settings: Settings) -> CheckResult:
    if not settings.redis_url:
        return CheckResult("redis", True, "not configured (built-in locks and in-process events)")
    client = redis.Redis.from_url(
        settings.redis_url, socket_timeout=TIMEOUT_SECONDS, socket_connect_timeout=TIMEOUT_SECONDS
    )
    try:
        client.ping()
        version = client.info("server").get("redis_version", "?")
    except redis.RedisError as error:
        return CheckResult("redis", False, f"not reachable: {_first_line(error)}")
    finally:
        client.close()
    return CheckResult(
        "redis", True, f"answers (Redis {version}, key prefix {settings.redis_prefix!r})"
    )


def check_api(settings: Settings) -> CheckResult:
    if not settings.api_url:
        return CheckResult("api", False, "remote mode needs api_url (HMS_API_URL)")
    url = settings.api_url.rstrip("/") + "/api/version"
    try:
        response = httpx.get(url, timeout=TIMEOUT_SECONDS)
    except httpx.HTTPError as error:
        return CheckResult("api", False, f"{url} not reachable: {_first_line(error)}")
    if response.status_code >= 500:
        return CheckResult("api", False, f"{url} answered HTTP {response.status_code}")
    if response.status_code != 200:
        return CheckResult(
            "api", False, f"{url} answered HTTP {response.status_code}: {NOT_A_CLINIC_SERVER}"
        )
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or not body.get("api_version"):
        # Some other web server (a proxy's default page, another application) answers here.
        return CheckResult("api", False, f"{url} gave no desk API version: {NOT_A_CLINIC_SERVER}")
    return CheckResult(
        "api",
        True,
        f"answers (API {body['api_version']}, server {body.get('server_version', '?')})",
    )


def _first_line(error: Exception) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def run_checks(settings: Settings) -> list[CheckResult]:
    """A remote desktop needs only the API; a local one (or a server) the database and Redis."""
    results = []
    if not settings.is_remote or settings.database_url:
        database = check_database(settings)
        results.append(database)
        if database.ok:
            results.append(check_schema(settings))
            results.append(check_version_gate(settings))
            results.append(check_last_backup(settings))
        results.append(check_redis(settings))
    if settings.is_remote:
        api = check_api(settings)
        results.append(api)
        if api.ok:
            results += check_remote_desk(settings)
    return results


def check_remote_desk(settings: Settings) -> list[CheckResult]:
    """Whether this desktop can speak the server's desk API, and (with HMS_USERNAME and
    HMS_PASSWORD set) whether that account can log in through it."""
    from hms_desktop.client import IncompatibleServer, RemoteBackend
    from hms_desktop.domain.errors import DomainError

    backend = RemoteBackend(settings, timeout=TIMEOUT_SECONDS, retries=0)
    try:
        try:
            versions = backend.transport.check_version()
        except IncompatibleServer as error:
            return [CheckResult("versions", False, error.message)]
        except DomainError:
            return []  # no version to compare: the api line above already says so
        results = [
            CheckResult("versions", True, f"compatible (desk API {versions['api_version']})")
        ]
        username, password = os.environ.get("HMS_USERNAME"), os.environ.get("HMS_PASSWORD")
        if username and password:
            try:
                user = backend.login(username, password)
            except DomainError as error:
                results.append(CheckResult("login", False, f"{username}: {error.message}"))
            else:
                results.append(CheckResult("login", True, f"{user.username} ({user.role.value})"))
                backend.logout()
        return results
    finally:
        backend.close()


def run_check(settings: Settings) -> int:
    """Print the configuration and one line per check; non-zero when any check fails."""
    print("configuration:")  # noqa: T201
    for key, value in settings.masked().items():
        print(f"  {key} = {value}")  # noqa: T201
    print(f"log file (desktop): {log_file_path(settings)}")  # noqa: T201
    results = run_checks(settings)
    for result in results:
        print(f"{'ok  ' if result.ok else 'FAIL'} {result.name}: {result.detail}")  # noqa: T201
    return 0 if all(result.ok for result in results) else 1
