"""The calendar grid on screen: slots painted as coloured tiles, keys and clicks that act
on the slot under the cursor."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, QRect, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QKeyEvent, QPainter, QPen
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
from hms_desktop.ui.common import Index

STALE_OPACITY = 0.4


class SlotDelegate(QStyledItemDelegate):
    """Paints each slot as a coloured tile; other desks' holds are hatched."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        item = index.data(Qt.ItemDataRole.UserRole)
        if not isinstance(item, CalendarSlot):
            super().paint(painter, option, index)
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
        self.verticalHeader().setDefaultSectionSize(30)
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.horizontalHeader().setMinimumSectionSize(90)
        self.horizontalHeader().setDefaultSectionSize(130)
        self.clicked.connect(self._clicked)

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
