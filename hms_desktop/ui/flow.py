"""A layout that lays its items out in a row and wraps onto the next line when the row is
full, so a toolbar never squeezes its widgets over one another in a narrow window (after
Qt's own "Flow Layout" example)."""

from __future__ import annotations

from PySide6.QtCore import QMargins, QPoint, QRect, QSize, Qt
from PySide6.QtWidgets import QLayout, QLayoutItem, QWidget


class FlowLayout(QLayout):
    """Items left to right at their size hints; a full row wraps. Items from the first one
    added with `add_right` on sit flush right on their row (a toolbar's buttons after its
    filters)."""

    def __init__(self, parent: QWidget | None = None, spacing: int = 8) -> None:
        super().__init__(parent)
        self._items: list[QLayoutItem] = []
        self.setContentsMargins(0, 0, 0, 0)
        self.setSpacing(spacing)
        self.right_aligned: set[int] = set()  # positions from which items go flush right

    def addItem(self, item: QLayoutItem) -> None:  # noqa: N802
        self._items.append(item)

    def add_right(self, widget: QWidget) -> None:
        """Add a widget that goes flush right on its row (with those added after it)."""
        self.right_aligned.add(len(self._items))
        self.addWidget(widget)

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:  # noqa: N802
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:  # noqa: N802
        return self._items.pop(index) if 0 <= index < len(self._items) else None

    def expandingDirections(self) -> Qt.Orientation:  # noqa: N802
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:  # noqa: N802
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802
        return self._arrange(QRect(0, 0, width, 0), apply=False)

    def setGeometry(self, rect: QRect) -> None:  # noqa: N802
        super().setGeometry(rect)
        self._arrange(rect, apply=True)

    def sizeHint(self) -> QSize:  # noqa: N802
        width = sum(item.sizeHint().width() for item in self._items)
        width += self.spacing() * max(0, len(self._items) - 1)
        height = max((item.sizeHint().height() for item in self._items), default=0)
        return QSize(width, height) + self._margin_size()

    def minimumSize(self) -> QSize:  # noqa: N802
        size = QSize()
        for item in self._items:
            size = size.expandedTo(item.minimumSize())
        return size + self._margin_size()

    def _margin_size(self) -> QSize:
        margins: QMargins = self.contentsMargins()
        return QSize(margins.left() + margins.right(), margins.top() + margins.bottom())

    def _rows(self, width: int) -> list[list[QLayoutItem]]:
        rows: list[list[QLayoutItem]] = [[]]
        used = 0
        for item in self._items:
            if item.isEmpty():
                continue
            wanted = item.sizeHint().width()
            if rows[-1] and used + self.spacing() + wanted > width:
                rows.append([])
                used = 0
            used += (self.spacing() if rows[-1] else 0) + wanted
            rows[-1].append(item)
        return rows

    def _arrange(self, rect: QRect, *, apply: bool) -> int:
        """Place the items (when `apply`) and return the height they take at this width."""
        area = rect.marginsRemoved(self.contentsMargins())
        y = area.y()
        for row in self._rows(area.width()):
            height = max((item.sizeHint().height() for item in row), default=0)
            if apply:
                self._place_row(row, area, y, height)
            y += height + self.spacing()
        height = y - self.spacing() - area.y() if y > area.y() else 0
        margins = self.contentsMargins()
        return height + margins.top() + margins.bottom()

    def _place_row(self, row: list[QLayoutItem], area: QRect, y: int, height: int) -> None:
        right_from = min(self.right_aligned, default=len(self._items))
        split = next(
            (i for i, item in enumerate(row) if self._items.index(item) >= right_from),
            len(row),
        )
        left, right = row[:split], row[split:]
        x = area.x()
        for item in left:
            x = self._place(item, x, y, height)
        right_width = sum(item.sizeHint().width() for item in right)
        right_width += self.spacing() * max(0, len(right) - 1)
        x = max(x, area.right() + 1 - right_width)
        for item in right:
            x = self._place(item, x, y, height)

    def _place(self, item: QLayoutItem, x: int, y: int, height: int) -> int:
        hint = item.sizeHint()
        top = y + (height - hint.height()) // 2
        item.setGeometry(QRect(QPoint(x, top), hint))
        return x + hint.width() + self.spacing()
