"""`hms-desktop` (also `python -m hms_desktop`): the desktop app and IT's commands."""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy.exc import OperationalError

from hms_desktop import __version__, logs
from hms_desktop.app import maintenance
from hms_desktop.config import ConfigError, Settings, config_path, load_settings
from hms_desktop.domain.errors import DomainError
from hms_desktop.store.backup import BackupError
from hms_desktop.store.schema import SchemaError

log = logging.getLogger("hms_desktop")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hms-desktop", description="Clinic reception system.")
    parser.add_argument("--version", action="version", version=f"hms-desktop {__version__}")
    parser.add_argument(
        "--screenshot", metavar="DIR", help="render every screen to DIR/<screen>.png and exit"
    )
    commands = parser.add_subparsers(dest="command")

    serve = commands.add_parser("serve", help="run the REST API server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)

    db = commands.add_parser("db", help="database schema and version gate")
    db_actions = db.add_subparsers(dest="action", required=True)
    db_actions.add_parser("upgrade", help="migrate to this version's schema (safely)")
    require = db_actions.add_parser(
        "require-version", help="the oldest desktop version allowed to use the database"
    )
    require.add_argument("version", help="e.g. 1.4.2")
    require.add_argument(
        "--update-url", help="where desks get the new build (web page or shared folder)"
    )

    create_user = commands.add_parser("create-user", help="make a staff account")
    create_user.add_argument("--username", required=True)
    create_user.add_argument("--role", required=True, choices=["admin", "receptionist", "doctor"])
    create_user.add_argument("--first-name", default="")
    create_user.add_argument("--last-name", default="")
    create_user.add_argument("--email", default="")
    create_user.add_argument(
        "--password-stdin", action="store_true", help="read the password from stdin"
    )

    commands.add_parser("demo-data", help="load the demo clinic (idempotent)")
    slots = commands.add_parser("slots", help="doctors' slots")
    slots_actions = slots.add_subparsers(dest="action", required=True)
    extend = slots_actions.add_parser(
        "extend", help="make every doctor's slots reach the booking horizon (for cron)"
    )
    extend.add_argument(
        "--days", type=int, help="days ahead (default: booking_horizon_days)", metavar="N"
    )
    commands.add_parser("check", help="show the configuration and whether the stores answer")

    backup = commands.add_parser("backup", help="back up the database to FILE")
    backup.add_argument("file", type=Path)
    restore = commands.add_parser("restore", help="replace the database with a backup")
    restore.add_argument("file", type=Path)
    restore.add_argument("--force", action="store_true", help="even if it holds data")

    config = commands.add_parser("config", help="the configuration file")
    config_actions = config.add_subparsers(dest="action", required=True)
    init = config_actions.add_parser("init", help="write a commented config.toml")
    init.add_argument(
        "--central", action="store_true", help="for a central PostgreSQL + Redis (and a server)"
    )
    init.add_argument("--path", type=Path, help="where (default: HMS_CONFIG or the user folder)")
    init.add_argument("--force", action="store_true", help="replace an existing file")

    package = commands.add_parser("package", help="build the packaged app (needs [package])")
    package.add_argument("--out", type=Path, required=True, help="output folder")

    bench = commands.add_parser("bench", help="run a benchmark and print its figures")
    bench.add_argument("name", help="booking, availability, search, api, ui, remote or reports")
    bench.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    bench.add_argument("--quick", action="store_true", help="a smaller run (smoke test)")
    return parser


def _create_user(settings: Settings, args: argparse.Namespace) -> int:
    from hms_desktop.domain.enums import Role
    from hms_desktop.domain.errors import DomainError
    from hms_desktop.domain.models import SYSTEM
    from hms_desktop.services import accounts
    from hms_desktop.services.clinic import open_clinic

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("Password: ")
    clinic = open_clinic(settings)
    try:
        user = accounts.create_user(
            clinic,
            SYSTEM,
            username=args.username,
            role=Role(args.role),
            password=password,
            first_name=args.first_name,
            last_name=args.last_name,
            email=args.email,
        )
    except DomainError as error:
        print(f"error: {error.message}", file=sys.stderr)  # noqa: T201
        return 1
    finally:
        clinic.close()
    print(f"created {user.role.value} {user.username} (id {user.id})")  # noqa: T201
    return 0


def _demo_data(settings: Settings) -> int:
    from hms_desktop.services.clinic import open_clinic
    from hms_desktop.services.demo import load_demo_clinic

    clinic = open_clinic(settings)
    try:
        summary = load_demo_clinic(clinic)
    finally:
        clinic.close()
    print(summary)  # noqa: T201
    return 0


def _slots_extend(settings: Settings, days: int | None) -> int:
    from hms_desktop.services import clinic_settings, hours
    from hms_desktop.services.clinic import open_clinic

    if days is not None and not 1 <= days <= 366:
        return _fail("--days must be 1 to 366")
    clinic = open_clinic(settings)
    try:
        ahead = days if days is not None else clinic_settings.booking_horizon_days(clinic)
        made = hours.top_up(clinic, ahead)
    finally:
        clinic.close()
    print(f"made {made} slots; every doctor's slots now reach {ahead} days ahead")  # noqa: T201
    return 0


def _fail(text: str, code: int = 1) -> int:
    """One line for IT; the traceback only with log_level = "DEBUG"."""
    log.debug("the command failed", exc_info=True)
    print(f"error: {text}", file=sys.stderr)  # noqa: T201
    return code


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; an expected failure is one line on stderr and a non-zero exit."""
    args = _parser().parse_args(argv)
    if args.command == "config":  # before loading: it may be what fixes a bad file
        path = args.path or config_path(os.environ)[0]
        try:
            return maintenance.config_init(path, central=args.central, force=args.force)
        except OSError as error:
            return _fail(str(error))
    try:
        settings = load_settings()
    except ConfigError as error:
        for problem in error.problems:
            print(f"configuration error: {problem}", file=sys.stderr)  # noqa: T201
        return 2
    try:
        return _run(args, settings)
    except (SchemaError, BackupError, DomainError) as error:
        return _fail(getattr(error, "message", None) or str(error))
    except (ValueError, OSError) as error:
        return _fail(str(error))
    except OperationalError as error:
        first_line = str(error.orig or error).strip().splitlines()[0]
        return _fail(f"the database cannot be reached: {first_line}")


def _run(args: argparse.Namespace, settings: Settings) -> int:
    if args.command is None:
        return _desktop(settings, screenshot_dir=args.screenshot)
    logs.log_to_stderr(settings)
    if args.command == "db" and args.action == "upgrade":
        return maintenance.db_upgrade(settings)
    if args.command == "db":
        return maintenance.require_version(settings, args.version, args.update_url)
    if args.command == "backup":
        return maintenance.make_backup(settings, args.file)
    if args.command == "restore":
        return maintenance.restore_backup(settings, args.file, force=args.force)
    if args.command == "create-user":
        return _create_user(settings, args)
    if args.command == "demo-data":
        return _demo_data(settings)
    if args.command == "slots":
        return _slots_extend(settings, args.days)
    if args.command == "check":
        from hms_desktop.app.diagnostics import run_check

        return run_check(settings)
    if args.command == "serve":
        from hms_desktop.api.server import serve

        return serve(settings, host=args.host, port=args.port, workers=args.workers)
    if args.command == "package":
        from hms_desktop.packaging import build_package

        return build_package(args.out)
    from hms_desktop.bench import run_benchmark

    return run_benchmark(args.name, settings, json_path=args.json, quick=args.quick)


def _desktop(settings: Settings, screenshot_dir: str | None) -> int:
    """The desktop app: logs to its file, and refuses to start when the version gate says
    this version may not use the database (never half-working)."""
    logs.log_to_file(settings)
    logs.record_crashes(settings)
    if not screenshot_dir:
        from hms_desktop.app import qt_libraries

        missing = qt_libraries.problem()
        if missing is not None:
            log.error("%s", missing)
            return 3
        from hms_desktop.services.version_gate import startup_problem

        problem = startup_problem(settings)
        if problem is not None:
            from hms_desktop.ui.app import refuse_to_start

            return refuse_to_start(problem)
    from hms_desktop.app.desktop import start_desktop

    return start_desktop(settings, screenshot_dir=screenshot_dir)
