"""Slot holds: who is talking to a patient about a slot right now.

Redis centrally (one atomic SET NX PX to hold, Lua compare-and-delete to release);
a table in the embedded SQLite file otherwise, so several processes sharing that file
agree. Either way the database's unique index is the last guard against double booking.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import fields
from datetime import UTC, datetime
from typing import Any, Protocol, cast

import redis
from sqlalchemy import CursorResult, delete, func, select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from hms_desktop.domain.errors import LockStoreUnavailable
from hms_desktop.domain.models import Hold
from hms_desktop.store.db import Database
from hms_desktop.store.tables import SlotHoldRow

log = logging.getLogger(__name__)


_HOLD_FIELDS = tuple(item.name for item in fields(Hold))


def _encode(hold: Hold) -> str:
    # Flat fields read directly: dataclasses.asdict deep-copies every value, on every hold.
    data = {name: getattr(hold, name) for name in _HOLD_FIELDS}
    data["expires_at"] = hold.expires_at.isoformat()
    return json.dumps(data)


def _decode(raw: str | bytes) -> Hold:
    """A stored hold; fields a newer desktop added are ignored (desks are updated one by
    one, and share one lock store meanwhile)."""
    data = {key: value for key, value in json.loads(raw).items() if key in _HOLD_FIELDS}
    data["expires_at"] = datetime.fromisoformat(data["expires_at"])
    return Hold(**data)


def _now_ms() -> int:
    return int(time.time() * 1000)


def expiry(ttl_ms: int) -> datetime:
    return datetime.fromtimestamp((_now_ms() + ttl_ms) / 1000, UTC)


class LockStore(Protocol):
    def acquire(self, hold: Hold, ttl_ms: int, *, max_per_patient: int = 0) -> Hold | None:
        """Store `hold` unless the slot is held already; return whichever hold is in place.
        None when the slot is free but its patient already has `max_per_patient` live holds
        (0: no cap)."""

    def get(self, slot_id: int) -> Hold | None: ...

    def get_many(self, slot_ids: Iterable[int]) -> dict[int, Hold]: ...

    def release(self, slot_id: int, token: str) -> bool:
        """Delete the hold only if `token` still owns it."""

    def ping(self) -> None: ...

    def close(self) -> None: ...


# KEYS[1] = hold key, KEYS[2] = index of held slots, ARGV[1] = token, ARGV[2] = slot id.
# Deletes only the owner's hold (and its index entry).
_RELEASE_SCRIPT = """
local current = redis.call('GET', KEYS[1])
if not current then return 0 end
if cjson.decode(current)['token'] == ARGV[1] then
    redis.call('ZREM', KEYS[2], ARGV[2])
    return redis.call('DEL', KEYS[1])
end
return 0
"""
# KEYS[1] = hold key, KEYS[2] = index of held slots, KEYS[3] = the patient's holds (slot id
# -> expiry ms). ARGV = payload, ttl ms, slot id, now ms, cap (0: none), hold key prefix,
# patient id. One atomic step: the slot's current hold, or ours, or false when the patient
# already holds `cap` live slots (entries released early or since re-held for someone else
# no longer count).
_ACQUIRE_SCRIPT = """
local current = redis.call('GET', KEYS[1])
if current then return current end
local cap = tonumber(ARGV[5])
local expires = tonumber(ARGV[4]) + tonumber(ARGV[2])
if cap > 0 then
    redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', ARGV[4])
    local live = 0
    for _, slot in ipairs(redis.call('ZRANGE', KEYS[3], 0, -1)) do
        local held = redis.call('GET', ARGV[6] .. slot)
        if held and tostring(cjson.decode(held)['patient_id']) == ARGV[7] then
            live = live + 1
        else
            redis.call('ZREM', KEYS[3], slot)
        end
    end
    if live >= cap then return false end
    redis.call('ZADD', KEYS[3], expires, ARGV[3])
    redis.call('PEXPIREAT', KEYS[3], expires)
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('ZADD', KEYS[2], expires, ARGV[3])
return ARGV[1]
"""
# Index entries are trusted this long past their expiry, in case desks' clocks disagree;
# the hold keys themselves (and their PX expiry) stay the truth.
_INDEX_GRACE_MS = 60_000


class RedisLockStore:
    def __init__(self, url: str, prefix: str = "hms:") -> None:
        self._client = redis.Redis.from_url(
            url, socket_timeout=2, socket_connect_timeout=2, health_check_interval=30
        )
        self._prefix = prefix
        # A sorted set of held slot ids (score: expiry in ms), so listings of thousands of
        # slots ask Redis which few are held instead of reading thousands of keys.
        self._index_key = f"{prefix}holds"
        self._release = self._client.register_script(_RELEASE_SCRIPT)
        # Key names are built inside the script from the prefix, which a Redis Cluster
        # would not route; one Redis at one address (what redis_url names) is fine.
        self._acquire = self._client.register_script(_ACQUIRE_SCRIPT)

    def _key(self, slot_id: int) -> str:
        return f"{self._prefix}hold:{slot_id}"

    def acquire(self, hold: Hold, ttl_ms: int, *, max_per_patient: int = 0) -> Hold | None:
        keys = [
            self._key(hold.slot_id),
            self._index_key,
            f"{self._prefix}patient-holds:{hold.patient_id}",
        ]
        payload = _encode(hold)
        args: list[str | int] = [
            payload,
            ttl_ms,
            hold.slot_id,
            _now_ms(),
            max_per_patient,
            f"{self._prefix}hold:",
            hold.patient_id,
        ]
        try:
            current = self._acquire(keys=keys, args=args)
        except redis.RedisError as error:
            raise LockStoreUnavailable() from error
        if current is None:
            return None
        # Ours, as we sent it (the usual answer): no need to parse it back.
        return hold if current == payload.encode() else _decode(current)

    def get(self, slot_id: int) -> Hold | None:
        try:
            raw = self._client.get(self._key(slot_id))
        except redis.RedisError as error:
            raise LockStoreUnavailable() from error
        return None if raw is None else _decode(raw)

    def get_many(self, slot_ids: Iterable[int]) -> dict[int, Hold]:
        ids = list(slot_ids)
        if not ids:
            return {}
        oldest = _now_ms() - _INDEX_GRACE_MS
        try:
            pipeline = self._client.pipeline(transaction=False)
            pipeline.zremrangebyscore(self._index_key, "-inf", oldest)
            pipeline.zrangebyscore(self._index_key, oldest, "+inf")
            members = pipeline.execute()[1]
            wanted = set(ids)
            held = [int(member) for member in members if int(member) in wanted]
            values = self._client.mget([self._key(slot_id) for slot_id in held]) if held else []
        except redis.RedisError as error:
            raise LockStoreUnavailable() from error
        return {slot_id: _decode(raw) for slot_id, raw in zip(held, values, strict=True) if raw}

    def release(self, slot_id: int, token: str) -> bool:
        try:
            return bool(
                self._release(keys=[self._key(slot_id), self._index_key], args=[token, slot_id])
            )
        except redis.RedisError as error:
            raise LockStoreUnavailable() from error

    def ping(self) -> None:
        try:
            self._client.ping()
        except redis.RedisError as error:
            raise LockStoreUnavailable() from error

    def close(self) -> None:
        self._client.close()


class DatabaseLockStore:
    """Holds in a table of the embedded SQLite database; each operation is one transaction."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def acquire(self, hold: Hold, ttl_ms: int, *, max_per_patient: int = 0) -> Hold | None:
        now = _now_ms()
        # One write transaction (BEGIN IMMEDIATE): the check and the insert cannot interleave
        # with another process's.
        with self._db.transaction() as session:
            session.execute(
                delete(SlotHoldRow).where(
                    SlotHoldRow.slot_id == hold.slot_id, SlotHoldRow.expires_at_ms <= now
                )
            )
            current = session.scalar(
                select(SlotHoldRow.payload).where(SlotHoldRow.slot_id == hold.slot_id)
            )
            if current is not None:
                return _decode(current)
            if max_per_patient > 0:
                live = session.scalar(
                    select(func.count()).where(
                        SlotHoldRow.patient_id == hold.patient_id,
                        SlotHoldRow.expires_at_ms > now,
                    )
                )
                if (live or 0) >= max_per_patient:
                    return None
            session.execute(
                sqlite_insert(SlotHoldRow)
                .values(
                    slot_id=hold.slot_id,
                    token=hold.token,
                    # Guard holds (no cap) are the system's, not the patient's.
                    patient_id=hold.patient_id if max_per_patient > 0 else None,
                    payload=_encode(hold),
                    expires_at_ms=now + ttl_ms,
                )
                .on_conflict_do_nothing(index_elements=["slot_id"])
            )
        return hold

    def acquire_many(self, holds: Sequence[Hold], ttl_ms: int) -> set[int]:
        """Hold every slot of `holds` that nobody holds, in one transaction (the system's
        holds: no cap); returns the slots now held by these holds."""
        now = _now_ms()
        taken: set[int] = set()
        with self._db.transaction() as session:
            for start in range(0, len(holds), 500):
                batch = {hold.slot_id: hold for hold in holds[start : start + 500]}
                session.execute(
                    delete(SlotHoldRow).where(
                        SlotHoldRow.slot_id.in_(list(batch)), SlotHoldRow.expires_at_ms <= now
                    )
                )
                held = set(
                    session.scalars(
                        select(SlotHoldRow.slot_id).where(SlotHoldRow.slot_id.in_(list(batch)))
                    )
                )
                free = [hold for slot_id, hold in batch.items() if slot_id not in held]
                if free:
                    session.execute(
                        sqlite_insert(SlotHoldRow),
                        [
                            {
                                "slot_id": hold.slot_id,
                                "token": hold.token,
                                "patient_id": None,
                                "payload": _encode(hold),
                                "expires_at_ms": now + ttl_ms,
                            }
                            for hold in free
                        ],
                    )
                taken.update(hold.slot_id for hold in free)
        return taken

    def release_many(self, tokens: dict[int, str]) -> None:
        """Let go of the holds `acquire_many` took (slot id -> token), in one transaction."""
        items = list(tokens.items())
        with self._db.transaction() as session:
            for start in range(0, len(items), 500):
                for slot_id, token in items[start : start + 500]:
                    session.execute(
                        delete(SlotHoldRow).where(
                            SlotHoldRow.slot_id == slot_id, SlotHoldRow.token == token
                        )
                    )

    def get(self, slot_id: int) -> Hold | None:
        return self.get_many([slot_id]).get(slot_id)

    def get_many(self, slot_ids: Iterable[int]) -> dict[int, Hold]:
        ids = list(slot_ids)
        if not ids:
            return {}
        found: dict[int, Hold] = {}
        with self._db.read() as session:
            # SQLite caps bound parameters; query in chunks.
            for start in range(0, len(ids), 500):
                rows = session.execute(
                    select(SlotHoldRow.slot_id, SlotHoldRow.payload).where(
                        SlotHoldRow.slot_id.in_(ids[start : start + 500]),
                        SlotHoldRow.expires_at_ms > _now_ms(),
                    )
                )
                found.update({slot_id: _decode(payload) for slot_id, payload in rows})
        return found

    def release(self, slot_id: int, token: str) -> bool:
        with self._db.transaction() as session:
            result = cast(
                CursorResult[Any],
                session.execute(
                    delete(SlotHoldRow).where(
                        SlotHoldRow.slot_id == slot_id,
                        SlotHoldRow.token == token,
                        SlotHoldRow.expires_at_ms > _now_ms(),
                    )
                ),
            )
        return bool(result.rowcount)

    def ping(self) -> None:
        with self._db.read() as session:
            session.execute(select(1))

    def close(self) -> None:
        """The database owns the connections."""
