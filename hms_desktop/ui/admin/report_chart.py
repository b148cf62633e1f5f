"""A small bar chart drawn with QPainter (no browser, no QtCharts): one horizontal bar per
report row for a figure between 0 and 1 (a rate or utilisation)."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

BAR_HEIGHT = 18
GAP = 6
LABEL_WIDTH = 160
VALUE_WIDTH = 56


def paint_bars(
    painter: QPainter, width: int, bars: Sequence[tuple[str, float | None]], colour: QColor
) -> None:
    """Draw the bars from the top left (shared by the widget and the PDF's picture)."""
    track = max(width - LABEL_WIDTH - VALUE_WIDTH - 2 * GAP, 10)
    metrics = painter.fontMetrics()
    for number, (label, value) in enumerate(bars):
        top = GAP + number * (BAR_HEIGHT + GAP)
        text = metrics.elidedText(label, Qt.TextElideMode.ElideRight, LABEL_WIDTH - GAP)
        painter.setPen(QColor(40, 40, 40))
        align = Qt.AlignmentFlag.AlignVCenter
        painter.drawText(QRectF(0, top, LABEL_WIDTH - GAP, BAR_HEIGHT), align, text)
        painter.fillRect(QRectF(LABEL_WIDTH, top, track, BAR_HEIGHT), QColor(235, 235, 235))
        if value is not None:
            painter.fillRect(
                QRectF(LABEL_WIDTH, top, track * min(max(value, 0.0), 1.0), BAR_HEIGHT), colour
            )
        shown = "—" if value is None else f"{value * 100:.0f} %"
        painter.drawText(
            QRectF(LABEL_WIDTH + track + GAP, top, VALUE_WIDTH, BAR_HEIGHT), align, shown
        )


def chart_height(count: int) -> int:
    return GAP + count * (BAR_HEIGHT + GAP)


class BarChart(QWidget):
    """The bars of the figure chosen on the page; `bars` is what it shows (tests read it)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bars: list[tuple[str, float | None]] = []
        self.colour = QColor(52, 120, 200)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def set_bars(self, bars: Sequence[tuple[str, float | None]], colour: QColor) -> None:
        self.bars, self.colour = list(bars), colour
        self.setFixedHeight(chart_height(len(self.bars)))
        self.update()

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(480, chart_height(len(self.bars)))

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        paint_bars(painter, self.width(), self.bars, self.colour)
        painter.end()

    def image(self, width: int = 640) -> QImage:
        """The chart as a picture (for the PDF), the same drawing at `width`."""
        picture = QImage(width, max(chart_height(len(self.bars)), 1), QImage.Format.Format_RGB32)
        picture.fill(QColor(255, 255, 255))
        painter = QPainter(picture)
        paint_bars(painter, width, self.bars, self.colour)
        painter.end()
        return picture
