"""`hms-desktop` (also `python -m hms_desktop`): the desktop app and IT's commands."""

from __future__ import annotations

import argparse
import getpass
import logging
import sys
from collections.abc import Sequence

from hms_desktop.config import Settings, load_settings

log = logging.getLogger("hms_desktop")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hms-desktop", description="Clinic reception system.")
    parser.add_argument(
        "--screenshot", metavar="DIR", help="render every screen to DIR/<screen>.png and exit"
    )
    commands = parser.add_subparsers(dest="command")

    serve = commands.add_parser("serve", help="run the REST API server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)

    db = commands.add_parser("db", help="database schema")
    db.add_argument("action", choices=["upgrade"])

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
    commands.add_parser("check", help="show the configuration and whether the stores answer")

    bench = commands.add_parser("bench", help="run a benchmark and print its figures")
    bench.add_argument("name", help="booking, availability, search, api, ui or remote")
    bench.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    bench.add_argument("--quick", action="store_true", help="a smaller run (smoke test)")
    return parser


def _configure_logging(settings: Settings) -> None:
    logging.basicConfig(
        level=getattr(logging, settings.log_level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def _db_upgrade(settings: Settings) -> int:
    from hms_desktop.store import schema

    schema.upgrade(settings.effective_database_url)
    print(f"database at revision {schema.current_revision(settings.effective_database_url)}")  # noqa: T201
    return 0


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


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = load_settings()
    _configure_logging(settings)
    if args.command == "db":
        return _db_upgrade(settings)
    if args.command == "create-user":
        return _create_user(settings, args)
    if args.command == "demo-data":
        return _demo_data(settings)
    if args.command == "check":
        from hms_desktop.services.diagnostics import run_check

        return run_check(settings)
    if args.command == "serve":
        from hms_desktop.api.server import serve

        return serve(settings, host=args.host, port=args.port, workers=args.workers)
    if args.command == "bench":
        from hms_desktop.bench import run_benchmark

        return run_benchmark(args.name, settings, json_path=args.json, quick=args.quick)
    from hms_desktop.ui.app import run_app

    return run_app(settings, screenshot_dir=args.screenshot)
