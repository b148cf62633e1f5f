"""Code health the build holds to: imports go one way (the contracts in pyproject.toml's
[tool.importlinter]), and no module of the app grows past what a newcomer can read."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# "No module over ~500 lines": a little slack, so a docstring does not break the build.
MAX_MODULE_LINES = 520
# Generated once and never edited: the first migration is the whole initial schema.
LONG_BY_NATURE = {"hms_desktop/store/migrations/versions/0001_initial_schema.py"}
# import-linter's command, in a process of its own (it sets up logging and its console).
LINT_IMPORTS = "from importlinter.cli import lint_imports_command; lint_imports_command()"


def _lint_imports(folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", LINT_IMPORTS, "--no-cache"],
        cwd=folder,
        env={**os.environ, "PYTHONPATH": str(folder)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_imports_go_one_way() -> None:
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_contract_breach_is_caught(tmp_path: Path) -> None:
    """The contract is live: a store module importing the UI fails it."""
    package = tmp_path / "hms_desktop"
    for layer in ("ui", "api", "client", "services", "store", "domain", "app", "bench"):
        (package / layer).mkdir(parents=True)
        (package / layer / "__init__.py").write_text("")
    for module in ("__init__.py", "cli.py", "config.py"):
        (package / module).write_text("")
    (package / "store" / "leak.py").write_text("import hms_desktop.ui\n")
    (tmp_path / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text())
    result = _lint_imports(tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Layers go one way" in result.stdout and "BROKEN" in result.stdout
    assert "hms_desktop.store.leak -> hms_desktop.ui" in result.stdout


def test_no_module_is_too_long_to_hold_in_your_head() -> None:
    too_long = {
        str(path.relative_to(ROOT)): lines
        for path in sorted((ROOT / "hms_desktop").rglob("*.py"))
        if str(path.relative_to(ROOT)) not in LONG_BY_NATURE
        and (lines := len(path.read_text().splitlines())) > MAX_MODULE_LINES
    }
    assert too_long == {}
