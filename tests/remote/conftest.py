"""Remote-mode scenarios: a real uvicorn server on the test's store, desks of either kind."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from hms_desktop.services.clinic import Clinic
from tests.contract.conftest import World, make_world


@pytest.fixture
def world(open_store: Callable[..., Clinic]) -> Iterator[World]:
    """Remote desks by default; `world.backend("local")` gives a local one on the same store."""
    yield from make_world("remote", open_store, serve=True)
