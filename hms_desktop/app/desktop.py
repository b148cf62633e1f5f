"""The desktop's start: the configured backend handed to the UI, or the screenshots."""

from __future__ import annotations

import functools

from hms_desktop.app.bootstrap import open_backend
from hms_desktop.config import Settings
from hms_desktop.ui.app import BackendOpener, DeskApp, run_app


def backend_opener(settings: Settings) -> BackendOpener:
    return functools.partial(open_backend, settings)


def desk_app(settings: Settings) -> DeskApp:
    """The desktop app over the configured backend, not yet started."""
    return DeskApp(settings, backend_opener(settings))


def start_desktop(settings: Settings, screenshot_dir: str | None = None) -> int:
    if screenshot_dir:
        from hms_desktop.app.screenshots import render_screens

        return render_screens(settings, screenshot_dir)
    return run_app(settings, backend_opener(settings))
