"""`hms-desktop check` in remote mode: API reachable, versions compatible, the account logs in."""

from __future__ import annotations

import pytest

from hms_desktop.app.diagnostics import run_checks
from tests import factories
from tests.contract.conftest import World, remote_settings


def test_remote_check_reports_versions_and_login(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert world.server is not None
    user, _ = factories.staff(world.clinic)
    settings = remote_settings(world.server.url)

    monkeypatch.delenv("HMS_USERNAME", raising=False)
    monkeypatch.delenv("HMS_PASSWORD", raising=False)
    names = {result.name: result for result in run_checks(settings)}
    assert names["api"].ok and names["versions"].ok and "login" not in names

    monkeypatch.setenv("HMS_USERNAME", user.username)
    monkeypatch.setenv("HMS_PASSWORD", factories.PASSWORD)
    login = {result.name: result for result in run_checks(settings)}["login"]
    assert login.ok and login.detail == f"{user.username} (receptionist)"

    monkeypatch.setenv("HMS_PASSWORD", "not-the-password")
    login = {result.name: result for result in run_checks(settings)}["login"]
    assert not login.ok and login.detail == f"{user.username}: Invalid username or password."
