"""Doctors: filter by speciality and designation; fee, rating, hours, free slots, reviews."""

from __future__ import annotations

import html
from zoneinfo import ZoneInfo

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from hms_desktop.domain.models import DoctorDetails, DoctorSummary, NamedItem
from hms_desktop.services.backend import Backend
from hms_desktop.ui import theme
from hms_desktop.ui.common import (
    RecordTableModel,
    fmt_datetime,
    fmt_hours,
    primary,
    record_table,
    stars,
    two_panes,
)
from hms_desktop.ui.tasks import Tasks

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _rating(summary: DoctorSummary) -> str:
    if summary.average_rating is None:
        return "no reviews"
    return f"{stars(summary.average_rating)} {summary.average_rating:.1f} ({summary.review_count})"


def doctor_model(parent: QWidget | None = None) -> RecordTableModel:
    return RecordTableModel(
        [
            ("Doctor", lambda d: d.full_name),
            ("Speciality", lambda d: ", ".join(d.specialisations)),
            ("Designations", lambda d: ", ".join(d.designations)),
            ("Fee", lambda d: "—" if d.fee is None else f"{d.fee}"),
            ("Rating", _rating),
        ],
        parent,
    )


def fill_combo(combo: QComboBox, items: list[NamedItem], everything: str) -> None:
    current = combo.currentData()
    combo.blockSignals(True)
    combo.clear()
    combo.addItem(everything, None)
    for item in items:
        combo.addItem(item.name, item.id)
    combo.setCurrentIndex(max(0, combo.findData(current)))
    combo.blockSignals(False)


class DoctorsView(QWidget):
    calendar_requested = Signal(object)  # DoctorSummary
    loaded = Signal()

    def __init__(
        self, backend: Backend, tasks: Tasks, tz: ZoneInfo, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.backend, self.tasks, self.tz = backend, tasks, tz
        two_panes(self, self._build_list_side(), self._build_details_card(), (700, 420))
        self.speciality.currentIndexChanged.connect(self.reload)
        self.designation.currentIndexChanged.connect(self.reload)
        self.table.selectionModel().currentRowChanged.connect(
            lambda index, _old: self._select(self.model.row_record(index.row()))
        )
        self._details_for: int | None = None

    def _build_list_side(self) -> QWidget:
        """The filters over the list of doctors."""
        side = QWidget(self)
        self.speciality = QComboBox(side)
        self.designation = QComboBox(side)
        self.speciality.setMinimumWidth(200)
        self.designation.setMinimumWidth(200)
        self.model = doctor_model(self)
        self.table = record_table(self.model, side, stretch=0)
        filters = QHBoxLayout()
        speciality_label = QLabel("&Speciality", side)
        speciality_label.setBuddy(self.speciality)
        filters.addWidget(speciality_label)
        filters.addWidget(self.speciality)
        designation_label = QLabel("&Designation", side)
        designation_label.setBuddy(self.designation)
        filters.addWidget(designation_label)
        filters.addWidget(self.designation)
        filters.addStretch(1)
        layout = QVBoxLayout(side)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(filters)
        layout.addWidget(self.table, 1)
        return side

    def _build_details_card(self) -> QFrame:
        """The selected doctor: details, hours, free slots and reviews; open their calendar."""
        card = QFrame(self)
        card.setObjectName("Card")
        self.details = QLabel("Select a doctor.", card)
        self.details.setWordWrap(True)
        self.details.setTextFormat(Qt.TextFormat.RichText)
        self.details.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.calendar_button = primary(QPushButton(theme.icon("calendar"), "Open calendar", card))
        self.calendar_button.setEnabled(False)
        self.calendar_button.clicked.connect(self._open_calendar)
        scroll = QScrollArea(card)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(self.details)
        layout = QVBoxLayout(card)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.calendar_button, 0, Qt.AlignmentFlag.AlignRight)
        return card

    def start(self) -> None:
        self.tasks.run(
            self.backend.specialisations,
            on_done=lambda items: fill_combo(self.speciality, items, "All specialities"),
            retry=True,
        )
        self.tasks.run(
            self.backend.designations,
            on_done=lambda items: fill_combo(self.designation, items, "All designations"),
            retry=True,
        )
        self.reload()

    def reload(self) -> None:
        self.tasks.run(
            self.backend.doctors,
            self.speciality.currentData(),
            self.designation.currentData(),
            on_done=self._show,
            retry=True,
        )

    def _show(self, doctors: list[DoctorSummary]) -> None:
        self.model.set_rows(doctors)
        if doctors:
            self.table.selectRow(0)
        else:
            self._select(None)
            self.details.setText("No doctor matches these filters.")
        self.loaded.emit()

    def _select(self, summary: DoctorSummary | None) -> None:
        self.calendar_button.setEnabled(summary is not None)
        if summary is None:
            return
        self._details_for = summary.id
        self.tasks.run(self.backend.doctor_details, summary.id, on_done=self._details, retry=True)

    def selected(self) -> DoctorSummary | None:
        return self.model.row_record(self.table.currentIndex().row())

    def _details(self, details: DoctorDetails) -> None:
        if details.summary.id != self._details_for:
            return
        s = details.summary
        e = html.escape
        hours = (
            "".join(
                f"<tr><td style='padding-right:10px'>{WEEKDAYS[h.weekday]}</td>"
                f"<td>{fmt_hours(h.start, h.end)}</td><td style='color:#4a5a6a'>"
                f"&nbsp;{h.slot_minutes} min slots</td></tr>"
                for h in sorted(details.working_hours, key=lambda h: (h.weekday, h.start))
            )
            or "<tr><td>No working hours set.</td></tr>"
        )
        free = (
            "".join(
                f"<li>{fmt_datetime(slot.start, self.tz)}</li>"
                for slot in details.next_free_slots[:6]
            )
            or "<li>No free slot in the booking window.</li>"
        )
        reviews = (
            "".join(
                f"<p><span style='color:#c98a00;font-size:12pt'>{stars(r.rating)}</span> "
                f"<b>{e(r.reviewer)}</b> <span style='color:#4a5a6a'>{r.created_on:%d %b %Y}"
                f"</span><br>{e(r.body)}</p>"
                for r in details.reviews[:8]
            )
            or "<p>No reviews yet.</p>"
        )
        fee = "—" if s.fee is None else str(s.fee)
        self.details.setText(
            f"<h2 style='color:#1f4e79;margin:0'>{e(s.full_name)}</h2>"
            f"<p>{e(', '.join(s.specialisations) or 'General')}"
            f"{' · ' + e(', '.join(s.designations)) if s.designations else ''}<br>"
            f"Fee: <b>{fee}</b> · Rating: <span style='color:#c98a00'>{_rating(s)}</span></p>"
            f"<p>{e(details.description)}</p>"
            f"<h3>Weekly hours</h3><table>{hours}</table>"
            f"<h3>Next free slots</h3><ul>{free}</ul>"
            f"<h3>Reviews</h3>{reviews}"
        )

    def _open_calendar(self) -> None:
        summary = self.selected()
        if summary is not None:
            self.calendar_requested.emit(summary)
