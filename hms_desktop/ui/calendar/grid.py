"""The calendar grid on screen: slots painted as coloured tiles, keys and clicks that act
on the slot under the cursor."""

from __future__ import annotations

from datetime import date, time
from typing import Any

from PySide6.QtCore import QModelIndex, QRect, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QKeyEvent, QPainter, QPen, QResizeEvent, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QWidget,
)

from hms_desktop.domain.models import CalendarSlot, SlotState
from hms_desktop.ui import theme
from hms_desktop.ui.calendar.header import DOCTOR_ROLE, PADDING, CalendarHeader
from hms_desktop.ui.common import Index

STALE_OPACITY = 0.4
# A column never narrower than this (sideways scrolling instead), nor made wider than
# MAX_COLUMN to fit a long name (its end is elided; the tooltip has it whole).
MIN_COLUMN = 120
MAX_COLUMN = 220
# One doctor's week: a column says only its day, and seven fit a small window.
MIN_DAY_COLUMN = 90


class SlotDelegate(QStyledItemDelegate):
    """Paints each slot as a coloured tile; other desks' holds are hatched."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        tint = index.data(Qt.ItemDataRole.BackgroundRole)
        if isinstance(tint, QColor):  # today's column, around the tile too
            painter.fillRect(option.rect, tint)
        item = index.data(Qt.ItemDataRole.UserRole)
        if not isinstance(item, CalendarSlot):
            # A time with no slot of this doctor's: nothing more to paint (and much quicker
            # than the base delegate, which asks the model for every role of every cell).
            return
        background, foreground = theme.slot_colours(item.state)
        rect: QRect = option.rect.adjusted(2, 2, -2, -2)
        painter.save()
        if not option.state & QStyle.StateFlag.State_Enabled:
            painter.setOpacity(STALE_OPACITY)  # an old range, kept while the new one loads
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(background)
        painter.drawRoundedRect(rect, 4, 4)
        if item.state is SlotState.HELD:
            painter.setBrush(QBrush(QColor("#c8682a"), Qt.BrushStyle.BDiagPattern))
            painter.drawRoundedRect(rect, 4, 4)
        if option.state & QStyle.StateFlag.State_Selected:
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.setPen(QPen(QColor("#0b2a45"), 2.5))
            painter.drawRoundedRect(rect.adjusted(1, 1, -1, -1), 4, 4)
        painter.setPen(foreground)
        text = index.data(Qt.ItemDataRole.DisplayRole) or ""
        metrics = option.fontMetrics
        elided = metrics.elidedText(text, Qt.TextElideMode.ElideRight, rect.width() - 8)
        painter.drawText(
            rect.adjusted(4, 0, -4, 0),
            int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft),
            elided,
        )
        painter.restore()


class CalendarTable(QTableView):
    """The grid: arrows move, Enter acts on the slot under the cursor."""

    slot_activated = Signal(object)  # CalendarSlot

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setItemDelegate(SlotDelegate(self))
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setShowGrid(False)
        # Arrows move between slots; Tab leaves the grid (by default it walks every cell).
        self.setTabKeyNavigation(False)
        self.setDragEnabled(True)
        self.setAcceptDrops(True)
        self.setDropIndicatorShown(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        self.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.setDragDropOverwriteMode(True)
        header = CalendarHeader(self)
        self.setHorizontalHeader(header)
        # The day labels stay over the part of their day in sight: repaint them all.
        self.horizontalScrollBar().valueChanged.connect(lambda _v: header.viewport().update())
        self.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.verticalHeader().setDefaultSectionSize(30)
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.horizontalHeader().setMinimumSectionSize(MIN_DAY_COLUMN)
        self.horizontalHeader().setDefaultSectionSize(MIN_COLUMN)
        # Where to scroll once the grid has its size: today's first column, the hour now.
        self._scroll_target: tuple[date, time] | None = None
        self.clicked.connect(self._clicked)

    # --- columns and scrolling ----------------------------------------------------------------
    def calendar_header(self) -> CalendarHeader:
        header = self.horizontalHeader()
        assert isinstance(header, CalendarHeader)
        return header

    def readable_width(self) -> int:
        """Wide enough for the longest doctor's name shown (within MIN..MAX_COLUMN); a
        day's column when one doctor is shown."""
        model = self.model()
        count = model.columnCount() if model is not None else 0
        names = {
            str(model.headerData(i, Qt.Orientation.Horizontal, DOCTOR_ROLE) or "")
            for i in range(count)
        }
        header = self.horizontalHeader()
        header.ensurePolished()  # the style sheet's font, even before the grid is first shown
        metrics = header.fontMetrics()
        widest = max((metrics.horizontalAdvance(name) for name in names), default=0)
        least = MIN_COLUMN if widest else MIN_DAY_COLUMN
        return max(least, min(MAX_COLUMN, widest + 2 * PADDING + 4))

    def fit_columns(self) -> None:
        """Columns share the width when each gets a readable size; otherwise each keeps that
        size and the grid scrolls sideways."""
        header = self.horizontalHeader()
        count = header.count()
        if count == 0:
            return
        readable = self.readable_width()
        if self.viewport().width() // count >= readable:
            header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
            return
        header.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        header.setDefaultSectionSize(readable)
        for section in range(count):  # (the default does not always resize those there)
            if header.sectionSize(section) != readable:
                header.resizeSection(section, readable)

    def scroll_to_now(self, today: date | None, now: time) -> None:
        """Show today's first column at the left and the hour now near the top (the first
        hours when today is not shown); again once the grid is shown if it is not yet."""
        self._scroll_target = (today, now) if today is not None else None
        if today is None:
            self.horizontalScrollBar().setValue(0)
            return
        self._apply_scroll_target()

    def _apply_scroll_target(self) -> None:
        model = self.model()
        if self._scroll_target is None or model is None:
            return
        today, now = self._scroll_target
        header = self.calendar_header()
        column = next((i for i in range(header.count()) if header.day_of(i) == today), None)
        if column is None:
            return
        self.updateGeometries()
        self.horizontalScrollBar().setValue(header.sectionPosition(column))
        times = getattr(model, "times", [])
        # The slot under way now, one row of what came before above it.
        row = max(0, sum(1 for when in times if when <= now) - 2)
        self.verticalScrollBar().setValue(self.verticalHeader().sectionPosition(row))
        if self.isVisible() and self.viewport().width() > 0:
            self._scroll_target = None

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802
        super().resizeEvent(event)
        self.fit_columns()
        self._apply_scroll_target()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802
        super().showEvent(event)
        self._apply_scroll_target()

    def _clicked(self, index: QModelIndex) -> None:
        item = index.data(Qt.ItemDataRole.UserRole)
        if isinstance(item, CalendarSlot) and item.state is not SlotState.BOOKED:
            self.slot_activated.emit(item)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            item = self.currentIndex().data(Qt.ItemDataRole.UserRole)
            if isinstance(item, CalendarSlot):
                self.slot_activated.emit(item)
                event.accept()
                return
        super().keyPressEvent(event)

    def mouseDoubleClickEvent(self, event: Any) -> None:  # noqa: N802
        item = self.indexAt(event.position().toPoint()).data(Qt.ItemDataRole.UserRole)
        if isinstance(item, CalendarSlot) and item.state is SlotState.BOOKED:
            self.slot_activated.emit(item)
            return
        super().mouseDoubleClickEvent(event)
