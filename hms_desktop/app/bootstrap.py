"""The composition root: which `Backend` the desktop talks to, from the configuration."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError, OperationalError

from hms_desktop.config import Settings
from hms_desktop.domain.errors import BackendUnavailable
from hms_desktop.services.backend import Backend
from hms_desktop.services.clinic import Clinic, open_clinic
from hms_desktop.services.local import LocalBackend
from hms_desktop.store.tables import User

log = logging.getLogger(__name__)

Progress = Callable[[str], None]


class DatabaseUnreachable(BackendUnavailable):
    message = "The clinic database cannot be reached. Check the network or ask IT."


class RemoteModeUnavailable(BackendUnavailable):
    message = (
        "This installation cannot work through the clinic server (remote mode is not "
        "available). Ask IT to install the full package or configure a database."
    )


def _lost_connection_as_unavailable(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except DBAPIError as error:
            if isinstance(error, OperationalError) or error.connection_invalidated:
                raise DatabaseUnreachable() from error
            raise

    return call


class DeskBackend(LocalBackend):
    """`LocalBackend` whose lost database connections arrive as `BackendUnavailable`,
    so the desk shows its "connection lost" banner instead of a technical error."""


for _name in sorted(Backend.__abstractmethods__):
    _member = getattr(LocalBackend, _name)
    if callable(_member):
        setattr(DeskBackend, _name, _lost_connection_as_unavailable(_member))


def _is_empty(clinic: Clinic) -> bool:
    with clinic.db.read() as session:
        return not session.scalar(select(func.count()).select_from(User))


def open_backend(settings: Settings, progress: Progress | None = None) -> Backend:
    """Open the configured backend; on a fresh embedded database, load the demo clinic."""
    report = progress or (lambda _text: None)
    if settings.is_remote:
        try:
            from hms_desktop.client import RemoteBackend
        except ImportError as error:
            log.warning("remote backend unavailable: %s", error)
            raise RemoteModeUnavailable() from error
        report("Connecting to the clinic server…")
        return RemoteBackend(settings)
    report("Opening the clinic database…")
    try:
        clinic = open_clinic(settings)
    except OperationalError as error:
        log.warning("database unreachable: %s", error)
        raise DatabaseUnreachable() from error
    try:
        if settings.is_embedded and _is_empty(clinic):
            from hms_desktop.services.demo import load_demo_clinic

            report("Setting up the demo clinic (first start only)…")
            load_demo_clinic(clinic)
    except BaseException:
        clinic.close()
        raise
    return DeskBackend(clinic, owns_clinic=True)
