"""Days as the desk types them, and a date field with a calendar to pick one from."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import QDate, QLocale, QPoint, Qt
from PySide6.QtWidgets import (
    QCalendarWidget,
    QFrame,
    QHBoxLayout,
    QLineEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from hms_desktop.domain.validation import parse_day
from hms_desktop.ui import theme
from hms_desktop.ui.common import fmt_date

# What a date field's placeholder suggests: the form the table shows, which no one misreads.
DAY_HINT = "e.g. 08 Mar 1984, 08/03/1984 or 1984-03-08"


def _locale_day(text: str, locale: QLocale) -> date | None:
    """`text` in the locale's short date form, its year written out or not ("3/8/84" and
    "3/8/1984" in the US). A two-digit year is the latest one not in the future."""
    pattern = locale.dateFormat(QLocale.FormatType.ShortFormat)
    long_year = pattern if "yyyy" in pattern else pattern.replace("yy", "yyyy")
    for each in dict.fromkeys((pattern, long_year)):
        found = locale.toDate(text, each)
        if found.isValid():
            day = date(found.year(), found.month(), found.day())
            two_digits = "yyyy" not in each and "yy" in each
            if two_digits and day.year < 2000 and day.replace(year=day.year + 100) <= date.today():
                day = day.replace(year=day.year + 100)
            return day
    return None


def parse_typed_day(text: str, locale: QLocale | None = None) -> date | None:
    """The day the desk typed: the locale's short date first (so a US desk's 03/08/1984 is
    in March), then DD/MM/YYYY, YYYY-MM-DD and the table's "08 Mar 1984"; None if none."""
    words = " ".join(text.split())
    if not words:
        return None
    return _locale_day(words, locale or QLocale()) or parse_day(words)


class DateField(QWidget):
    """A line the desk types a day into, and a calendar button beside it to pick one."""

    def __init__(self, parent: QWidget | None = None, *, latest: date | None = None) -> None:
        super().__init__(parent)
        self.edit = QLineEdit(self)
        self.edit.setPlaceholderText(DAY_HINT)
        self.pick = QToolButton(self)
        self.pick.setIcon(theme.icon("calendar"))
        self.pick.setToolTip("Pick the date from a calendar")
        self.pick.setAccessibleName("Pick a date")
        # A popup window of its own (a calendar inside a QMenu loses its last week).
        self.popup = QFrame(self, Qt.WindowType.Popup)
        self.popup.setFrameShape(QFrame.Shape.Box)
        self.calendar = QCalendarWidget(self.popup)
        self.calendar.setGridVisible(True)
        self.calendar.setVerticalHeaderFormat(QCalendarWidget.VerticalHeaderFormat.NoVerticalHeader)
        if latest is not None:
            self.calendar.setMaximumDate(QDate(latest.year, latest.month, latest.day))
        inside = QVBoxLayout(self.popup)
        inside.setContentsMargins(1, 1, 1, 1)
        inside.addWidget(self.calendar)
        self.pick.clicked.connect(self.open_calendar)
        self.calendar.clicked.connect(self._picked)
        self.calendar.activated.connect(self._picked)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(4)
        row.addWidget(self.edit, 1)
        row.addWidget(self.pick)
        self.setFocusProxy(self.edit)

    def day(self) -> date | None:
        return parse_typed_day(self.edit.text())

    def set_day(self, day: date | None) -> None:
        self.edit.setText(fmt_date(day))

    def open_calendar(self) -> None:
        """The calendar under the button, at the day typed (if any)."""
        day = self.day()
        if day is not None:
            self.calendar.setSelectedDate(QDate(day.year, day.month, day.day))
        # Its size hint leaves out what the style sheet adds (the year box's height and
        # padding), which would cut off the last week.
        self.calendar.ensurePolished()
        hint = self.calendar.sizeHint()
        self.calendar.setMinimumSize(hint.width() + 40, hint.height() + 40)
        self.popup.adjustSize()
        corner = self.pick.mapToGlobal(QPoint(self.pick.width(), self.pick.height()))
        self.popup.move(corner.x() - self.popup.width(), corner.y())
        self.popup.show()
        self.calendar.setFocus()

    def _picked(self, picked: QDate) -> None:
        self.set_day(date(picked.year(), picked.month(), picked.day()))
        self.popup.hide()
        self.edit.setFocus()
