"""The admin's doctor screens for `--screenshot`: the doctor editor open on a demo doctor."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

from PySide6.QtWidgets import QApplication

from hms_desktop.services.backend import Backend
from hms_desktop.ui.admin.doctors import DoctorsPage
from hms_desktop.ui.tasks import Tasks


def render_doctor_editor(
    admin: Backend,
    tz: ZoneInfo,
    directory: Path,
    settle: Callable[[Tasks], None],
    size: tuple[int, int],
) -> None:
    """`doctor-editor.png`: the roster behind, the editor open on its first doctor."""
    tasks = Tasks()
    page = DoctorsPage(admin, tasks, tz, None)
    page.start()
    page.resize(*size)
    page.show()
    settle(tasks)
    editor = page.edit_selected()
    if editor is None:
        return
    settle(tasks)
    QApplication.processEvents()
    editor.grab().save(str(directory / "doctor-editor.png"))
    editor.reject()
    page.close()
    settle(tasks)
