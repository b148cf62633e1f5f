"""The audit log: who did what to which record, when; filtered, a page at a time, and the
filtered rows exported as CSV (paged through the backend, so remote desks export too)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from hms_desktop.domain.admin import (
    AUDIT_PAGE_MAX,
    AuditFilter,
    AuditPage,
    AuditRecord,
    audit_csv,
)
from hms_desktop.domain.errors import RateLimited
from hms_desktop.services.backend import Backend
from hms_desktop.ui.common import (
    Index,
    RecordTableModel,
    fmt_short,
    local_midnight,
    primary,
    record_table,
)
from hms_desktop.ui.fields import FieldErrors
from hms_desktop.ui.tasks import Tasks

PAGE = 200
# The most rows one export writes (a year of a busy clinic is far below it).
EXPORT_MAX = 200_000
PACED_TRIES = 120
# What the filters offer (both lists are editable: any action or record kind can be typed).
ACTIONS = ("", "book", "reschedule", "cancel", "status", "request", "decline", "take_over",
           "create", "update", "delete", "save", "register", "set_hours", "deactivate",
           "reactivate", "activate", "unlock", "reset_password", "change_password",
           "logout")  # fmt: skip
RECORDS = ("", "user", "patient", "appointment", "hold", "doctor", "profile", "review",
           "services", "contacts", "available_times", "clinic_settings", "token")  # fmt: skip
DATE_HINT = "YYYY-MM-DD"


def _page_paced(backend: Backend, where: AuditFilter, before: int | None) -> AuditPage:
    """One page; a remote desk over its request budget (`rate_limit_default`) waits for it
    (this runs off the GUI thread) rather than failing a long export half-way."""
    for _ in range(PACED_TRIES):
        try:
            return backend.audit_page(where, before, AUDIT_PAGE_MAX)
        except RateLimited as error:
            time.sleep(min(max(error.retry_after, 1), 60))
    return backend.audit_page(where, before, AUDIT_PAGE_MAX)


def export_rows(backend: Backend, where: AuditFilter) -> list[AuditRecord]:
    """Every row `where` matches, newest first, paged through the backend (bounded)."""
    rows: list[AuditRecord] = []
    before: int | None = None
    while len(rows) < EXPORT_MAX:
        page = _page_paced(backend, where, before)
        rows.extend(page.rows)
        if page.next_before is None:
            break
        before = page.next_before
    return rows


def write_csv(backend: Backend, where: AuditFilter, path: str) -> int:
    """Export to `path` (runs off the GUI thread); answers how many rows were written."""
    rows = export_rows(backend, where)
    Path(path).write_text(audit_csv(rows), encoding="utf-8", newline="")
    return len(rows)


class AuditModel(RecordTableModel):
    """The entries; hovering a row shows its whole detail (the column cuts it short)."""

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.ToolTipRole and index.isValid():
            record = self.row_record(index.row())
            return record.detail or None
        return super().data(index, role)


def _editable(choices: tuple[str, ...], parent: QWidget) -> QComboBox:
    box = QComboBox(parent)
    box.setEditable(True)
    box.addItems(list(choices))
    box.setCurrentText("")
    return box


class AuditLogPage(QWidget):
    """Filters on top, the entries below (newest first), "Older" and "Export CSV"."""

    message = Signal(str)

    def __init__(
        self, backend: Backend, tasks: Tasks, tz: ZoneInfo, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.backend, self.tasks, self.tz = backend, tasks, tz
        self.where = AuditFilter()
        self._next_before: int | None = None
        # Where the export goes; a test (or a script) can answer without the file chooser.
        self.choose_file: Callable[[], str] = self._ask_for_file
        self.errors = FieldErrors(self)
        layout = QVBoxLayout(self)
        layout.addLayout(self._build_filters())
        layout.addWidget(self.errors.form)
        layout.addWidget(self._build_table(), 1)
        layout.addLayout(self._build_footer())

    def _build_filters(self) -> QHBoxLayout:
        self.person = QLineEdit(self)
        self.person.setPlaceholderText("username")
        self.record_kind = _editable(RECORDS, self)
        self.record_id = QLineEdit(self)
        self.record_id.setPlaceholderText("id")
        self.action = _editable(ACTIONS, self)
        self.since = QLineEdit(self)
        self.since.setPlaceholderText(DATE_HINT)
        self.until = QLineEdit(self)
        self.until.setPlaceholderText(DATE_HINT)
        for field in (self.person, self.record_id, self.since, self.until):
            field.returnPressed.connect(self.apply)
        self.apply_button = primary(QPushButton("&Show", self))
        self.apply_button.clicked.connect(self.apply)
        self.clear_button = QPushButton("C&lear", self)
        self.clear_button.clicked.connect(self.clear_filters)
        left, right = QFormLayout(), QFormLayout()
        left.addRow("&Person", self.errors.wrap("actor", self.person))
        left.addRow("Re&cord", self._record_row())
        right.addRow("&Action", self.errors.wrap("action", self.action))
        right.addRow("&From", self.errors.wrap("since", self.since))
        right.addRow("&To", self.errors.wrap("until", self.until))
        buttons = QVBoxLayout()
        buttons.addWidget(self.apply_button)
        buttons.addWidget(self.clear_button)
        buttons.addStretch(1)
        row = QHBoxLayout()
        row.addLayout(left, 1)
        row.addLayout(right, 1)
        row.addLayout(buttons)
        return row

    def _record_row(self) -> QWidget:
        holder = QWidget(self)
        row = QHBoxLayout(holder)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.errors.wrap("entity", self.record_kind), 2)
        row.addWidget(self.errors.wrap("entity_id", self.record_id), 1)
        return holder

    def _build_table(self) -> QWidget:
        self.model = AuditModel(
            [
                ("When", lambda r: fmt_short(r.at, self.tz)),
                ("Person", lambda r: r.actor),
                ("Action", lambda r: r.action),
                ("Record", lambda r: f"{r.entity} {r.entity_id}".strip()),
                ("Detail", lambda r: r.detail),
            ],
            self,
        )
        self.table = record_table(self.model, self, stretch=-1)
        return self.table

    def _build_footer(self) -> QHBoxLayout:
        self.count = QLabel("", self)
        self.more_button = QPushButton("&Older entries", self)
        self.more_button.clicked.connect(self.load_more)
        self.more_button.setEnabled(False)
        self.export_button = QPushButton("&Export CSV…", self)
        self.export_button.clicked.connect(self.export)
        row = QHBoxLayout()
        row.addWidget(self.count)
        row.addStretch(1)
        row.addWidget(self.more_button)
        row.addWidget(self.export_button)
        return row

    # --- the filter ---------------------------------------------------------------------------
    def _day(self, field: QLineEdit, name: str) -> date | bool | None:
        text = field.text().strip()
        if not text:
            return None
        try:
            return datetime.strptime(text, "%Y-%m-%d").date()
        except ValueError:
            self.errors.show(f"Enter the date as {DATE_HINT}.", name)
            return False

    def read_filter(self) -> AuditFilter | None:
        """The filter as typed, or None with the error next to its field."""
        self.errors.clear()
        since, until = self._day(self.since, "since"), self._day(self.until, "until")
        if since is False or until is False:
            return None
        if isinstance(since, date) and isinstance(until, date) and until < since:
            self.errors.show("The end date is before the start date.", "until")
            return None
        return AuditFilter(
            actor=self.person.text().strip(),
            entity=self.record_kind.currentText().strip(),
            entity_id=self.record_id.text().strip(),
            action=self.action.currentText().strip(),
            since=local_midnight(since, self.tz) if isinstance(since, date) else None,
            # The end date is a whole day: up to the midnight after it.
            until=local_midnight(until + timedelta(days=1), self.tz)
            if isinstance(until, date)
            else None,
        )

    def clear_filters(self) -> None:
        for field in (self.person, self.record_id, self.since, self.until):
            field.clear()
        self.record_kind.setCurrentText("")
        self.action.setCurrentText("")
        self.apply()

    # --- loading ------------------------------------------------------------------------------
    def start(self) -> None:
        self.apply()

    def reload(self) -> None:
        self.apply()

    def apply(self) -> None:
        where = self.read_filter()
        if where is None:
            return
        self.where = where
        self.tasks.run(
            self.backend.audit_page,
            where,
            None,
            PAGE,
            on_done=lambda page: self._show(page, append=False),
            on_error=self.errors.show_error,
        )

    def load_more(self) -> None:
        if self._next_before is None:
            return
        self.tasks.run(
            self.backend.audit_page,
            self.where,
            self._next_before,
            PAGE,
            on_done=lambda page: self._show(page, append=True),
            on_error=self.errors.show_error,
        )

    def _show(self, page: AuditPage, *, append: bool) -> None:
        rows = (self.model.records if append else []) + page.rows
        self.model.set_rows(rows)
        self._next_before = page.next_before
        self.more_button.setEnabled(page.next_before is not None)
        more = " (older entries: “Older entries”)" if page.next_before is not None else ""
        self.count.setText(f"{len(rows)} entries shown{more}")

    # --- export -------------------------------------------------------------------------------
    def _ask_for_file(self) -> str:
        path, _ = QFileDialog.getSaveFileName(
            self, "Export the audit log", "audit.csv", "CSV files (*.csv)"
        )
        return path

    def export(self) -> None:
        where = self.read_filter()
        if where is None:
            return
        path = self.choose_file()
        if not path:
            return
        self.export_button.setEnabled(False)
        self.tasks.run(
            write_csv,
            self.backend,
            where,
            path,
            on_done=lambda count: self._exported(count, path),
            on_error=self._export_failed,
        )

    def _exported(self, count: int, path: str) -> None:
        self.export_button.setEnabled(True)
        self.message.emit(f"Exported {count} audit entries to {path}.")
        self.count.setText(f"Exported {count} entries to {Path(path).name}.")

    def _export_failed(self, error: Exception) -> None:
        self.export_button.setEnabled(True)
        if isinstance(error, OSError):
            self.errors.show(f"Could not write the file: {error.strerror or error}.")
        else:
            self.errors.show_error(error)
