"""The controls around the calendar grid: the toolbar (filters, Day / Week, navigation)
that wraps in a narrow window, the range heading with whom the desk is booking for (a
removable chip), and the legend. A base of `CalendarView`, kept apart so the view's module
stays about what is shown."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QWidget,
)

from hms_desktop.domain.models import PatientRecord, SlotState
from hms_desktop.ui import theme
from hms_desktop.ui.calendar.actions import SlotActions
from hms_desktop.ui.calendar.model import STATE_WORDS
from hms_desktop.ui.common import plain
from hms_desktop.ui.flow import FlowLayout

# Day / Week as one control, the shown one filled (the app's style sheet has no checked
# state for buttons).
VIEW_STYLE = (
    "QPushButton { border-radius:0; }"
    "QPushButton:checked { background:#1f6fb2; color:white; border-color:#1a5e97; }"
)
CHIP_STYLE = (
    "QFrame#PatientChip { background:#dbeafb; border:1px solid #9cc2ea; border-radius:12px; }"
    "QFrame#PatientChip QLabel { color:#0b3d6b; font-weight:600; }"
    "QFrame#PatientChip QToolButton { border:none; color:#0b3d6b; padding:0 4px; }"
    "QFrame#PatientChip QToolButton:hover { background:#b9d6f5; border-radius:9px; }"
)


def _group(parent: QWidget, *widgets: QWidget, spacing: int = 6) -> QWidget:
    """Widgets that stay together on one line when the toolbar wraps."""
    box = QWidget(parent)
    row = QHBoxLayout(box)
    row.setContentsMargins(0, 0, 0, 0)
    row.setSpacing(spacing)
    for widget in widgets:
        row.addWidget(widget)
    return box


class CalendarControls(SlotActions):
    """Builds the calendar's controls; `CalendarView` connects and lays them out."""

    patient: PatientRecord | None

    def _build_toolbar(self) -> QWidget:
        """Speciality and doctor filters; Day / Week (the shown one checked); previous,
        today, next. Its groups wrap onto a second line rather than overlap."""
        self.speciality = QComboBox(self)
        self.speciality.setMinimumWidth(150)
        self.doctor = QComboBox(self)
        self.doctor.setMinimumWidth(220)
        self.day_button = QPushButton("Day", self)
        self.week_button = QPushButton("Week", self)
        self.view_group = QButtonGroup(self)
        self.view_group.setExclusive(True)
        for button in (self.day_button, self.week_button):
            button.setCheckable(True)
            button.setAutoDefault(False)
            self.view_group.addButton(button)
        self.day_button.setToolTip("One day")
        self.week_button.setToolTip("The week, Monday to Sunday")
        self.week_button.setChecked(True)
        self.prev_button = QPushButton(theme.icon("prev"), "", self)
        self.prev_button.setToolTip("Previous (Alt+Left)")
        self.today_button = QPushButton("Today", self)
        self.today_button.setToolTip("Today (Alt+Home)")
        self.next_button = QPushButton(theme.icon("next"), "", self)
        self.next_button.setToolTip("Next (Alt+Right)")
        speciality_label = QLabel("&Speciality", self)
        speciality_label.setBuddy(self.speciality)
        doctor_label = QLabel("D&octor", self)
        doctor_label.setBuddy(self.doctor)
        toolbar = QWidget(self)
        flow = FlowLayout(toolbar, spacing=10)
        flow.addWidget(_group(toolbar, speciality_label, self.speciality))
        flow.addWidget(_group(toolbar, doctor_label, self.doctor))
        views = _group(toolbar, self.day_button, self.week_button, spacing=0)
        views.setStyleSheet(VIEW_STYLE)
        flow.add_right(views)
        flow.addWidget(_group(toolbar, self.prev_button, self.today_button, self.next_button))
        policy = QSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        policy.setHeightForWidth(True)
        toolbar.setSizePolicy(policy)
        self.toolbar = toolbar
        return toolbar

    def _build_range_row(self) -> QHBoxLayout:
        """The days shown (always those of the grid), the range on its way, and whom the
        desk is booking for."""
        self.range_label = QLabel(self)
        self.range_label.setObjectName("SectionTitle")
        self.loading_label = QLabel(self)
        self.loading_label.setObjectName("Subtitle")
        self.loading_label.hide()
        row = QHBoxLayout()
        row.addWidget(self.range_label)
        row.addWidget(self.loading_label)
        row.addStretch(1)
        row.addWidget(self._build_patient_chip())
        return row

    def _build_patient_chip(self) -> QFrame:
        """ "Booking for: <patient>" with a ✕ that stops booking for them (so does Esc)."""
        self.patient_chip = QFrame(self)
        self.patient_chip.setObjectName("PatientChip")
        self.patient_chip.setStyleSheet(CHIP_STYLE)
        self.for_patient = plain(QLabel(self.patient_chip))
        self.clear_patient_button = QToolButton(self.patient_chip)
        self.clear_patient_button.setText("✕")
        self.clear_patient_button.setToolTip("Stop booking for this patient (Esc)")
        self.clear_patient_button.setAccessibleName("Stop booking for this patient")
        self.clear_patient_button.clicked.connect(lambda: self.set_patient(None))
        row = QHBoxLayout(self.patient_chip)
        row.setContentsMargins(10, 2, 4, 2)
        row.setSpacing(4)
        row.addWidget(self.for_patient)
        row.addWidget(self.clear_patient_button)
        self.patient_chip.hide()
        return self.patient_chip

    def set_patient(self, patient: PatientRecord | None) -> None:
        """Whom a click on a free slot books for; None: the booking dialog asks."""
        self.patient = patient
        self.for_patient.setText(f"Booking for: {patient.full_name}" if patient else "")
        self.for_patient.setToolTip(patient.full_name if patient else "")
        self.patient_chip.setVisible(patient is not None)

    def _build_legend(self) -> QHBoxLayout:
        """A chip per slot state in its own colours, and how to act on a slot."""
        legend = QHBoxLayout()
        for state in SlotState:
            background, foreground = theme.SLOT_COLOURS[state]
            chip = QLabel(STATE_WORDS[state], self)
            chip.setStyleSheet(
                f"background:{background};color:{foreground};border-radius:3px;padding:2px 8px;"
            )
            legend.addWidget(chip, 0, Qt.AlignmentFlag.AlignVCenter)
        hint = QLabel(
            "Click or Enter: book a free slot · double-click a booking to change it · "
            "drag a booking to move it · Esc: stop booking for the patient",
            self,
        )
        hint.setObjectName("Subtitle")
        # It takes the rest of the row, flush right: on one line where there is room,
        # wrapped (not cut off) in a small window.
        hint.setWordWrap(True)
        hint.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        legend.addWidget(hint, 1)
        return legend
