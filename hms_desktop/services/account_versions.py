"""Versions of what a token check reads, kept in Redis, so a server may keep its checks.

A token check (`accounts.verify_token`) reads the account (name, role, active, must change
its password), its patient and doctor records, and the log-in's revocation. A server keeps
the check's result per token (api/sign_ins.py) only together with the values two Redis keys
held before it read SQL: the account's (`account_key(prefix, user_id)`) and the clinic's
(`account_key(prefix, None)`). Every write of those rows, on any desk, server or command of
the clinic, gives the keys new random values (here, from every read-write session of the
clinic's database), so a server reading the keys before it answers sees a log-out, a
deactivation or a reset password at once, whichever host made it:

- after the change is flushed and before it commits (a failure here fails the write: with
  Redis away no one could tell the other servers) and again after it committed (a check
  that read SQL between the two would otherwise keep what it read);
- a key that is missing (expired, evicted, Redis restarted) is first set (SET NX) before a
  check is kept with it, so a key's disappearance is itself a change.

Only lock-out bookkeeping (`failed_logins`, `locked_until`) changes nothing a check reads.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from typing import Any

import redis
from sqlalchemy import inspect
from sqlalchemy.orm import Session

from hms_desktop.domain.errors import RedisUnavailable
from hms_desktop.store.db import Database
from hms_desktop.store.events import change_key
from hms_desktop.store.tables import Doctor, Patient, RevokedToken, User

log = logging.getLogger(__name__)

# The change keys every published event rewrites, for the API's kept patient answers.
__all__ = ["TOKEN_OWNERS", "AccountVersions", "account_key", "accounts_written", "change_key"]

# How long a key lives after it was last written (a key that expired reads as changed).
KEY_SECONDS = 86_400
# What a session notes between its flush and its commit: the accounts whose keys change.
_CHANGED = "hms_changed_accounts"
# Who owns a revocation being written (services/accounts.revoke_token notes it): without
# it a revocation changes the clinic's key, every account's checks at once.
TOKEN_OWNERS = "hms_token_owners"
# Columns of `users` no token check reads and that change on every failed log-in.
_BOOKKEEPING = frozenset({"failed_logins", "locked_until"})


def account_key(prefix: str, user_id: int | None) -> str:
    return f"{prefix}account:{user_id}" if user_id is not None else f"{prefix}accounts"


def _changed(state: Any, names: Iterable[str]) -> bool:
    return any(state.attrs[name].history.has_changes() for name in names)


def accounts_written(session: Session) -> set[int | None]:
    """The accounts (None: the clinic's) whose token checks this flush changes."""
    found: set[int | None] = set()
    for instance in (*session.new, *session.deleted, *session.dirty):
        if isinstance(instance, User):
            state = inspect(instance)
            columns = (c.key for c in state.mapper.column_attrs if c.key not in _BOOKKEEPING)
            if instance in session.dirty and not _changed(state, columns):
                continue
            found.add(instance.id)
        elif isinstance(instance, Patient | Doctor):
            state = inspect(instance)
            if instance in session.dirty:
                if not _changed(state, ["user_id"]):
                    continue
                found.update(v for v in state.attrs.user_id.history.deleted if v is not None)
            found.add(instance.user_id)
        elif isinstance(instance, RevokedToken) and instance in session.new:
            owners = session.info.get(TOKEN_OWNERS)
            found.update(owners if owners else {None})
    return found


class AccountVersions:
    """Writes the keys (a blocking client: sessions run in worker threads)."""

    def __init__(self, url: str, prefix: str) -> None:
        self.prefix = prefix
        self._client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)

    def change(self, user_ids: Iterable[int | None]) -> None:
        pipeline = self._client.pipeline(transaction=False)
        for user_id in user_ids:
            pipeline.set(account_key(self.prefix, user_id), uuid.uuid4().hex, ex=KEY_SECONDS)
        try:
            pipeline.execute()
        except redis.RedisError as error:
            raise RedisUnavailable() from error

    def follow(self, db: Database) -> None:
        """Change the keys around every write of the rows a token check reads."""
        db.listen_to_writes("after_flush", self._flushed)
        db.listen_to_writes("after_commit", self._committed)
        db.listen_to_writes("after_soft_rollback", self._rolled_back)

    def _flushed(self, session: Session, _context: Any) -> None:
        written = accounts_written(session)
        if written:
            self.change(written)  # before the commit: a failure rolls the write back
            session.info.setdefault(_CHANGED, set()).update(written)

    def _committed(self, session: Session) -> None:
        written = session.info.pop(_CHANGED, None)
        session.info.pop(TOKEN_OWNERS, None)
        if not written:
            return
        try:
            self.change(written)
        except RedisUnavailable:
            # The change before the commit went through: only a check that read SQL in
            # the moment between the two may be kept (for at most MAX_KEPT_SECONDS).
            log.warning("could not mark %d accounts changed after a commit", len(written))

    def _rolled_back(self, session: Session, _previous: Any) -> None:
        session.info.pop(_CHANGED, None)
        session.info.pop(TOKEN_OWNERS, None)

    def close(self) -> None:
        self._client.close()
