"""The admin's doctors: every doctor (deactivated ones too), add and edit them, deactivate
(no longer bookable) and reactivate. A deactivated doctor's booked future appointments are
listed under the roster so the desk can move them; nothing is cancelled silently."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from hms_desktop.domain.doctor_records import DoctorDeactivation, DoctorRecord
from hms_desktop.domain.models import AppointmentRecord
from hms_desktop.services.backend import Backend
from hms_desktop.ui.admin.doctor_editor import DoctorEditor
from hms_desktop.ui.common import (
    STATUS_WORDS,
    ErrorLabel,
    RecordTableModel,
    fmt_datetime,
    plain,
    primary,
    record_table,
)
from hms_desktop.ui.tasks import Tasks, friendly_message


def _fee(record: DoctorRecord) -> str:
    return "" if record.fee is None else str(record.fee)


class DoctorsPage(QWidget):
    def __init__(
        self, backend: Backend, tasks: Tasks, tz: ZoneInfo, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.backend, self.tasks, self.tz = backend, tasks, tz
        self.editor: DoctorEditor | None = None
        layout = QVBoxLayout(self)
        layout.addLayout(self._build_toolbar())
        layout.addWidget(self._build_table(), 3)
        layout.addWidget(self._build_rebook(), 2)

    def _build_toolbar(self) -> QHBoxLayout:
        row = QHBoxLayout()
        title = QLabel("Doctors", self)
        title.setObjectName("SectionTitle")
        self.add_button = primary(QPushButton("&Add doctor…", self))
        self.edit_button = QPushButton("&Edit…", self)
        self.active_button = QPushButton("&Deactivate", self)
        self.add_button.clicked.connect(self.add_doctor)
        self.edit_button.clicked.connect(self.edit_selected)
        self.active_button.clicked.connect(self.toggle_active)
        self.problem = ErrorLabel(self, name="FormError")
        self.active_button.setObjectName("Danger")
        row.addWidget(title)
        row.addWidget(self.problem)
        row.addStretch(1)
        for button in (self.add_button, self.edit_button, self.active_button):
            row.addWidget(button)
        return row

    def _build_table(self) -> QWidget:
        self.model = RecordTableModel(
            [
                ("Name", lambda d: d.full_name),
                ("Specialisations", lambda d: ", ".join(d.specialisations)),
                ("Designations", lambda d: ", ".join(d.designations)),
                ("Fee", _fee),
                ("Log-in", lambda d: d.username if d.has_login else "—"),
                ("Status", lambda d: "Active" if d.is_active else "Deactivated"),
            ],
            self,
        )
        self.table = record_table(self.model, self, stretch=1)
        self.table.selectionModel().currentRowChanged.connect(lambda *_: self._selected())
        self.table.activated.connect(lambda *_: self.edit_selected())  # double-click or Enter
        return self.table

    def _build_rebook(self) -> QWidget:
        box = QWidget(self)
        column = QVBoxLayout(box)
        column.setContentsMargins(0, 0, 0, 0)
        self.rebook_title = plain(QLabel("", box))
        self.rebook_title.setWordWrap(True)
        self.rebook_model = RecordTableModel(
            [
                ("When", lambda a: fmt_datetime(a.start, self.tz)),
                ("Patient", lambda a: a.patient_name),
                ("Status", lambda a: STATUS_WORDS.get(a.status, a.status.value)),
            ],
            box,
        )
        self.rebook_table = record_table(self.rebook_model, box)
        column.addWidget(self.rebook_title)
        column.addWidget(self.rebook_table)
        self.rebook_box = box
        box.hide()  # shown for a deactivated doctor
        return box

    # --- loading ---------------------------------------------------------------------------
    def start(self) -> None:
        """Load when the admin first opens the page (nothing is asked before)."""
        self.reload()

    def reload(self, select_id: int | None = None) -> None:
        self.tasks.run(
            self.backend.doctor_roster,
            on_done=lambda rows: self._show(rows, select_id),
            on_error=self._failed,
        )

    def _show(self, rows: list[DoctorRecord], select_id: int | None) -> None:
        shown = self.selected()
        current = select_id or (shown.id if shown is not None else None)
        self.model.set_rows(rows)
        ids = [row.id for row in rows]
        self.table.selectRow(ids.index(current) if current in ids else 0)
        self._selected()

    def selected(self) -> DoctorRecord | None:
        index = self.table.currentIndex()
        return self.model.row_record(index.row()) if index.isValid() else None

    def _selected(self) -> None:
        record = self.selected()
        self.edit_button.setEnabled(record is not None)
        self.active_button.setEnabled(record is not None)
        inactive = record is not None and not record.is_active
        self.active_button.setText("&Reactivate" if inactive else "&Deactivate")
        # Deactivating is the step to think twice about: only it looks like one.
        self.active_button.setObjectName("" if inactive else "Danger")
        self.active_button.style().unpolish(self.active_button)
        self.active_button.style().polish(self.active_button)
        if record is None or record.is_active:
            self._show_rebook(None, [])
        else:
            self.tasks.run(
                self.backend.bookings_to_rebook,
                record.id,
                on_done=lambda found: self._show_rebook(record, found),
                on_error=self._failed,
            )

    def _show_rebook(self, record: DoctorRecord | None, found: list[AppointmentRecord]) -> None:
        self.rebook_model.set_rows(found)
        self.rebook_box.setVisible(record is not None)
        if record is None:
            self.rebook_title.setText("")
        elif found:
            self.rebook_title.setText(
                f"{record.full_name} is deactivated. {len(found)} booked appointment(s) "
                "still need a new doctor or time: move them from the calendar."
            )
        else:
            self.rebook_title.setText(f"{record.full_name} is deactivated; nothing to rebook.")

    # --- actions ---------------------------------------------------------------------------
    def add_doctor(self) -> DoctorEditor:
        return self._open_editor(None)

    def edit_selected(self) -> DoctorEditor | None:
        record = self.selected()
        return self._open_editor(record) if record is not None else None

    def _open_editor(self, record: DoctorRecord | None) -> DoctorEditor:
        self.editor = DoctorEditor(self.backend, self.tasks, record, self)
        self.editor.saved.connect(lambda saved: self.reload(saved.id))
        self.editor.open()
        return self.editor

    def toggle_active(self) -> None:
        record = self.selected()
        if record is None:
            return
        self.problem.show_message("")
        if record.is_active:
            self.tasks.run(
                self.backend.deactivate_doctor,
                record.id,
                on_done=self._deactivated,
                on_error=self._failed,
            )
        else:
            self.tasks.run(
                self.backend.reactivate_doctor,
                record.id,
                on_done=lambda done: self.reload(done.id),
                on_error=self._failed,
            )

    def _deactivated(self, result: DoctorDeactivation) -> None:
        self.reload(result.doctor.id)
        if result.to_rebook and self.isVisible():
            QMessageBox.information(
                self,
                "Appointments to move",
                f"{result.doctor.full_name} can no longer be booked. "
                f"{len(result.to_rebook)} booked appointment(s) are listed under the roster "
                "for the desk to move.",
            )

    def _failed(self, error: Exception) -> None:
        self.problem.show_message(friendly_message(error))
