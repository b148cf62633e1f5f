"""Holds written by another desktop version still read: an older one's (no desk) and a newer
one's (a field this version does not know). Desks are updated one by one."""

from __future__ import annotations

import json
import time
from pathlib import Path

from sqlalchemy import insert

from hms_desktop.store import schema
from hms_desktop.store.db import Database
from hms_desktop.store.locks import DatabaseLockStore
from hms_desktop.store.tables import SlotHoldRow


def test_holds_of_older_and_newer_desktops_are_read(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'holds.sqlite3'}"
    schema.upgrade(url)
    db = Database.connect(url)
    expires = int(time.time() * 1000) + 60_000
    older = {
        "token": "t-1",
        "slot_id": 1,
        "patient_id": 5,
        "holder_user_id": 2,
        "holder": "reception",
        "expires_at": "2030-01-01T00:00:00+00:00",
    }
    newer = {**older, "token": "t-2", "slot_id": 2, "desk": "Desk 9", "colour": "blue"}
    try:
        with db.transaction() as session:
            for payload in (older, newer):
                session.execute(
                    insert(SlotHoldRow).values(
                        slot_id=payload["slot_id"],
                        token=payload["token"],
                        payload=json.dumps(payload),
                        expires_at_ms=expires,
                    )
                )
        holds = DatabaseLockStore(db).get_many([1, 2])
        assert (holds[1].holder, holds[1].desk, holds[1].desk_session) == ("reception", "", "")
        assert (holds[2].token, holds[2].desk) == ("t-2", "Desk 9")
    finally:
        db.dispose()
