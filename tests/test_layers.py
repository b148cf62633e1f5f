"""Code health the build holds to: imports go one way (the contracts in pyproject.toml's
[tool.importlinter]), and no module of the app grows past what a newcomer can read."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parent.parent
# "No module over ~500 lines": a little slack, so a docstring does not break the build.
MAX_MODULE_LINES = 520
# Generated once and never edited: the first migration is the whole initial schema.
LONG_BY_NATURE = {"hms_desktop/store/migrations/versions/0001_initial_schema.py"}


def test_imports_go_one_way(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    assert lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True) == 0


def test_a_contract_breach_is_caught(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The contract is live: a store module importing the UI fails it."""
    package = tmp_path / "hms_desktop"
    for layer in ("ui", "api", "client", "services", "store", "domain", "app", "bench"):
        (package / layer).mkdir(parents=True)
        (package / layer / "__init__.py").write_text("")
    (package / "__init__.py").write_text("")
    for module in ("cli.py", "config.py"):
        (package / module).write_text("")
    (package / "store" / "leak.py").write_text("import hms_desktop.ui\n")
    config = tmp_path / "pyproject.toml"
    config.write_text((ROOT / "pyproject.toml").read_text())
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in [name for name in list(sys.modules) if name.startswith("hms_desktop")]:
        monkeypatch.delitem(sys.modules, name)
    assert lint_imports(config_filename=str(config), no_cache=True) == 1
    report = capsys.readouterr().out
    assert "Layers go one way" in report and "BROKEN" in report
    assert "hms_desktop.store.leak -> hms_desktop.ui" in report


def test_no_module_is_too_long_to_hold_in_your_head() -> None:
    too_long = {
        str(path.relative_to(ROOT)): lines
        for path in sorted((ROOT / "hms_desktop").rglob("*.py"))
        if str(path.relative_to(ROOT)) not in LONG_BY_NATURE
        and (lines := len(path.read_text().splitlines())) > MAX_MODULE_LINES
    }
    assert too_long == {}
