"""Counting log-in attempts per name and per client, and noting a locked-out name on its
account (the counters live in the throttle's store: Redis centrally, the database embedded)."""

from __future__ import annotations

from datetime import datetime, timedelta

from limits import RateLimitItem
from sqlalchemy import func, or_, update

from hms_desktop.domain.errors import LoginThrottled
from hms_desktop.services.clinic import Clinic
from hms_desktop.store.tables import User


def throttle_name(username: str) -> str:
    return (username or "").strip().lower()[:150]


def throttle_keys(
    clinic: Clinic, client: str, username: str
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The keys of the per-name and per-client counters. The per-name one carries the name's
    generation, so an admin's unlock (`staff.unlock`) clears it on every desk and server."""
    name = throttle_name(username)
    generation = clinic.throttle.generation(name)
    return ("login", client, name, generation), ("login-client", client)


def _limits(
    clinic: Clinic, client: str, username: str
) -> list[tuple[RateLimitItem, tuple[str, ...]]]:
    per_name, per_client = throttle_keys(clinic, client, username)
    parse = clinic.throttle.parse
    return [
        (parse(clinic.settings.rate_limit_login), per_name),
        (parse(clinic.settings.rate_limit_login_client), per_client),
    ]


def count_attempt(clinic: Clinic, client: str, username: str) -> None:
    """Count an attempt from `client` before its password is even checked (so attempts
    racing from one place all count), and refuse it over the limit, for this name or any:
    the same answer whether the account exists or not, and nothing for the owner elsewhere."""
    throttle = clinic.throttle
    for item, keys in _limits(clinic, client, username):
        if not throttle.hit(item, *keys):
            wait = throttle.retry_after(item, *keys) or 1
            if keys[0] == "login":
                _mark_locked(clinic, username, clinic.now() + timedelta(seconds=wait))
            raise LoginThrottled.after(wait)


def _mark_locked(clinic: Clinic, username: str, until: datetime) -> None:
    """Note on the account that its name is locked out somewhere, so the admin's staff list
    shows it (the counters themselves live in the throttle's store)."""
    with clinic.db.transaction() as session:
        session.execute(
            update(User)
            .where(func.lower(User.username) == throttle_name(username))
            .where(or_(User.locked_until.is_(None), User.locked_until < until))
            .values(locked_until=until)
        )


def refuse_if_throttled(clinic: Clinic, client: str, username: str) -> None:
    for item, keys in _limits(clinic, client, username):
        wait = clinic.throttle.retry_after(item, *keys)
        if wait is not None:
            raise LoginThrottled.after(wait)
