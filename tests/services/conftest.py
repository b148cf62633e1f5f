"""Service tests make many accounts: hash their passwords at bcrypt's lowest cost so the
suite stays fast (one test checks the production cost with the patch undone)."""

from __future__ import annotations

from collections.abc import Callable

import bcrypt
import pytest

_real_gensalt: Callable[..., bytes] = bcrypt.gensalt


@pytest.fixture(autouse=True)
def cheap_bcrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    def gensalt(rounds: int = 12, prefix: bytes = b"2b") -> bytes:
        return _real_gensalt(4, prefix)

    monkeypatch.setattr(bcrypt, "gensalt", gensalt)
