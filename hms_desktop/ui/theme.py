"""The style sheet, icons and colours under `resources/`."""

from __future__ import annotations

import importlib.resources
from functools import cache
from pathlib import Path

from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import QApplication

import hms_desktop
from hms_desktop.domain.models import SlotState


def _resources_folder() -> Path:
    """resources/, installed as the package hms_desktop_resources (see pyproject.toml)."""
    try:
        return Path(str(importlib.resources.files("hms_desktop_resources")))
    except ModuleNotFoundError:  # a checkout run without installing it
        return Path(hms_desktop.__file__).resolve().parents[1] / "resources"


RESOURCES = _resources_folder()

# Slot states are told apart by colour and by text, so colour-blind staff can read them too.
SLOT_COLOURS: dict[SlotState, tuple[str, str]] = {  # background, text
    SlotState.FREE: ("#e3f4e6", "#1d5e2a"),
    SlotState.HELD_BY_ME: ("#ffd166", "#4a3500"),
    SlotState.HELD: ("#f6c8a8", "#6b2c00"),
    SlotState.BOOKED: ("#1f6fb2", "#ffffff"),
    SlotState.PAST: ("#eceff2", "#7d8894"),
    SlotState.BLOCKED: ("#d9d4e8", "#3d3357"),
}


def slot_colours(state: SlotState) -> tuple[QColor, QColor]:
    background, text = SLOT_COLOURS[state]
    return QColor(background), QColor(text)


ICON_INK = "#1f4e79"


@cache
def icon(name: str, colour: str = ICON_INK) -> QIcon:
    """An icon from resources/icons; `colour` repaints its strokes (white on the sidebar)."""
    path = RESOURCES / "icons" / f"{name}.svg"
    if colour == ICON_INK or not path.exists():
        return QIcon(str(path))  # a missing file: no picture, never a window that fails
    pixmap = QPixmap()
    pixmap.loadFromData(path.read_bytes().replace(ICON_INK.encode(), colour.encode()), "SVG")
    return QIcon(pixmap)


def apply(app: QApplication) -> None:
    app.setStyleSheet((RESOURCES / "style.qss").read_text(encoding="utf-8"))
    app.setWindowIcon(icon("app"))
