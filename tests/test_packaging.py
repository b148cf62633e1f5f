"""An installed build has every package, its migrations and the desktop's resources."""

from __future__ import annotations

import tomllib
from pathlib import Path

from hms_desktop.ui import theme

ROOT = Path(__file__).resolve().parent.parent


def test_every_package_is_listed_for_the_build() -> None:
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    on_disk = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for init in (ROOT / "hms_desktop").rglob("__init__.py")
    }
    assert set(setuptools["packages"]) == on_disk | {"hms_desktop_resources"}
    assert setuptools["package-dir"] == {"hms_desktop_resources": "resources"}


def test_the_style_sheet_and_the_icons_are_found() -> None:
    assert (theme.RESOURCES / "style.qss").is_file()
    icons = {path.stem for path in (theme.RESOURCES / "icons").glob("*.svg")}
    assert {"app", "calendar", "patients"} <= icons
