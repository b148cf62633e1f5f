"""Qt's own warnings reach the desktop's log (and so its log file)."""

from __future__ import annotations

import logging

import pytest
from PySide6.QtCore import qInstallMessageHandler, qWarning

from hms_desktop.ui.app import log_qt_messages


def test_qt_warnings_are_logged(caplog: pytest.LogCaptureFixture) -> None:
    try:
        log_qt_messages()
        with caplog.at_level(logging.WARNING, logger="qt"):
            qWarning("the xcb platform plugin could not be loaded")
    finally:
        qInstallMessageHandler(None)  # give pytest-qt its capture back
    assert ("qt", logging.WARNING, "the xcb platform plugin could not be loaded") in (
        caplog.record_tuples
    )
