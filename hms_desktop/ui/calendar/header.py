"""The calendar's column header: each day over its doctors when several doctors are shown
side by side for several days, names elided at their end (the whole name in the tooltip),
and today's columns highlighted."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import QAbstractItemModel, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import QHeaderView, QWidget

# Roles of the model's horizontal header data (see `CalendarModel.headerData`).
DAY_ROLE = Qt.ItemDataRole.UserRole + 1  # the column's date
DOCTOR_ROLE = Qt.ItemDataRole.UserRole + 2  # the doctor's full name, "" when one doctor
GROUPED_ROLE = Qt.ItemDataRole.UserRole + 3  # True: a day over its doctors (two rows)

BACKGROUND = QColor("#e7edf3")
TODAY_BACKGROUND = QColor("#cfe2f6")
TODAY_INK = QColor("#0b3d6b")
INK = QColor("#1b2733")
RULE = QColor("#c9d2db")
DAY_RULE = QColor("#7d8fa3")
PADDING = 6


class CalendarHeader(QHeaderView):
    """A horizontal header painted by hand: one row (a day, or a doctor) or two (the day
    spanning its doctors' columns over each doctor's name)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(Qt.Orientation.Horizontal, parent)
        self.today: date | None = None
        # Each section's day and whether days are grouped, read once per range shown.
        self._days: list[date | None] = []
        self._grouped = self._names = False
        self.setSectionsClickable(False)
        self.setHighlightSections(False)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)

    # --- what each section shows -------------------------------------------------------------
    def setModel(self, model: QAbstractItemModel | None) -> None:  # noqa: N802
        super().setModel(model)
        if model is not None:
            model.modelReset.connect(self._read_days)
            model.headerDataChanged.connect(self._read_days)
        self._read_days()

    def _read_days(self) -> None:
        model = self.model()
        count = model.columnCount() if model is not None else 0
        days = [self._data(section, DAY_ROLE) for section in range(count)]
        self._days = [day if isinstance(day, date) else None for day in days]
        self._grouped = count > 0 and bool(self._data(0, GROUPED_ROLE))
        self._names = count > 0 and bool(self._data(0, DOCTOR_ROLE))  # a doctor per column

    def _data(self, section: int, role: int) -> object:
        model = self.model()
        return model.headerData(section, Qt.Orientation.Horizontal, role) if model else None

    def grouped(self) -> bool:
        return self._grouped

    def day_of(self, section: int) -> date | None:
        return self._days[section] if 0 <= section < len(self._days) else None

    def section_text(self, section: int) -> str:
        """The lower row's words (the only row when not grouped)."""
        if self.grouped():
            return str(self._data(section, DOCTOR_ROLE) or "")
        return str(self._data(section, Qt.ItemDataRole.DisplayRole) or "")

    def day_span(self, section: int) -> tuple[int, int]:
        """The first and last section of the day `section` belongs to."""
        day = self.day_of(section)
        first = last = section
        while first > 0 and self.day_of(first - 1) == day:
            first -= 1
        while last + 1 < self.count() and self.day_of(last + 1) == day:
            last += 1
        return first, last

    # --- size and painting ------------------------------------------------------------------
    def _row_height(self) -> int:
        return self.fontMetrics().height() + 2 * PADDING

    def sizeHint(self) -> QSize:  # noqa: N802
        # (Not the base's, which asks every section for its words: all are painted here.)
        rows = 2 if self.grouped() else 1
        return QSize(self.length(), rows * self._row_height())

    def paintSection(self, painter: QPainter, rect: QRect, section: int) -> None:  # noqa: N802
        if not rect.isValid():
            return
        painter.save()
        painter.setClipRect(rect)
        day = self.day_of(section)
        today = day is not None and day == self.today
        bold = QFont(self.font())
        bold.setBold(True)
        painter.setFont(bold)
        painter.fillRect(rect, TODAY_BACKGROUND if today else BACKGROUND)
        lower = QRect(rect)
        if self.grouped():
            top = QRect(rect.left(), rect.top(), rect.width(), self._row_height())
            lower.setTop(top.bottom() + 1)
            self._paint_day(painter, section, top, today)
            painter.setPen(QPen(RULE))
            painter.drawLine(lower.left(), lower.top(), lower.right(), lower.top())
        if self._names:
            painter.setFont(self.font())  # names as measured for the columns' width
        painter.setPen(TODAY_INK if today else INK)
        text = painter.fontMetrics().elidedText(
            self.section_text(section), Qt.TextElideMode.ElideRight, lower.width() - 2 * PADDING
        )
        painter.drawText(
            lower.adjusted(PADDING, 0, -PADDING, 0),
            int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft),
            text,
        )
        last = self.day_span(section)[1] if self.grouped() else section
        # A strong rule between days; a light one between a day's doctors, under the day.
        if section == last:
            painter.setPen(QPen(DAY_RULE))
            painter.drawLine(rect.right(), rect.top(), rect.right(), rect.bottom())
        else:
            painter.setPen(QPen(RULE))
            painter.drawLine(rect.right(), lower.top(), rect.right(), rect.bottom())
        painter.setPen(QPen(RULE))
        painter.drawLine(rect.left(), rect.bottom(), rect.right(), rect.bottom())
        painter.restore()

    def _paint_day(self, painter: QPainter, section: int, top: QRect, today: bool) -> None:
        """The day's words across all its doctors' columns, centred on the part of them in
        sight (a day of many doctors is wider than the screen): each section paints its
        part of the one label (the painter is clipped to the section). The table repaints
        the header on every sideways scroll, so the label follows."""
        first, last = self.day_span(section)
        left = max(0, self.sectionViewportPosition(first))
        right = min(
            self.viewport().width(), self.sectionViewportPosition(last) + self.sectionSize(last)
        )
        span = QRect(left, top.top(), max(0, right - left), top.height())
        words = str(self._data(section, Qt.ItemDataRole.DisplayRole) or "")
        if today:
            words = f"{words} · today"
        painter.setPen(TODAY_INK if today else INK)
        text = painter.fontMetrics().elidedText(
            words, Qt.TextElideMode.ElideRight, span.width() - 2 * PADDING
        )
        painter.drawText(
            span.adjusted(PADDING, 0, -PADDING, 0), int(Qt.AlignmentFlag.AlignCenter), text
        )
