"""Where log lines go: the desktop to a rotating file in the platform's log folder (so "the
details are in the log" is true on every desk), IT's commands and `serve` to standard error,
as text or one JSON object per line (`log_format = "json"`) for a log collector."""

from __future__ import annotations

import faulthandler
import json
import logging
import sys
from datetime import UTC, datetime
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import Any

from hms_desktop.config import Settings

LOG_FILE_NAME = "hms-desktop.log"
# Where a crash of the process itself (a segmentation fault in Qt, say) leaves its Python
# stack: the logging module cannot write anything then, and a desk saw only a closed window.
CRASH_FILE_NAME = "hms-desktop-crash.log"
# Five files of 2 MB: weeks of a desk's warnings and errors, never a full disk.
LOG_FILE_BYTES = 2 * 1024 * 1024
LOG_FILE_COUNT = 5
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# LogRecord attributes that are not extra fields a caller passed.
_STANDARD_ATTRIBUTES = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and every `extra=` field."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRIBUTES and not key.startswith("_"):
                line[key] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def log_file_path(settings: Settings) -> Path:
    return settings.log_folder / LOG_FILE_NAME


def _formatter(settings: Settings) -> logging.Formatter:
    return JsonFormatter() if settings.log_format == "json" else logging.Formatter(TEXT_FORMAT)


def _reset_root(settings: Settings) -> logging.Logger:
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    root.setLevel(settings.log_level)
    # Alembic announces its dialect on every connection; `db upgrade` prints its own summary.
    logging.getLogger("alembic").setLevel(max(root.level, logging.WARNING))
    return root


def log_to_stderr(settings: Settings) -> None:
    """IT's commands and the server: every line to standard error."""
    root = _reset_root(settings)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_formatter(settings))
    root.addHandler(handler)


def log_to_file(settings: Settings) -> Path | None:
    """The desktop: a rotating file, warnings also on standard error. None (standard error
    only) when the folder cannot be written, so a read-only profile still starts."""
    log_to_stderr(settings)
    logging.getLogger().handlers[0].setLevel(logging.WARNING)
    path = log_file_path(settings)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = RotatingFileHandler(
            path, maxBytes=LOG_FILE_BYTES, backupCount=LOG_FILE_COUNT, encoding="utf-8"
        )
    except OSError as error:
        logging.getLogger(__name__).warning("no log file at %s: %s", path, error)
        return None
    handler.setFormatter(_formatter(settings))
    logging.getLogger().addHandler(handler)
    return path


def record_crashes(settings: Settings) -> Path | None:
    """Have a fatal error (SIGSEGV, SIGABRT, ...) write every thread's Python stack to the
    crash file in the log folder. None when it cannot be written; the file stays open for
    the life of the process, as faulthandler needs."""
    path = settings.log_folder / CRASH_FILE_NAME
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        crash_file = path.open("a", encoding="utf-8")
    except OSError as error:
        logging.getLogger(__name__).warning("no crash file at %s: %s", path, error)
        return None
    crash_file.write(f"--- {datetime.now(UTC).isoformat()} hms-desktop started\n")
    crash_file.flush()
    faulthandler.enable(file=crash_file, all_threads=True)
    _open_crash_files.append(crash_file)
    return path


_open_crash_files: list[Any] = []
