"""The booking calendar, by part:

- `model`: the item model (a cell is a slot; drag a booking to move it);
- `grid`: the table view and the delegate that paints slots; its columns' widths and where
  it opens (today, the hour now);
- `header`: the column header, each day over its doctors;
- `controls`: the toolbar (wraps in a narrow window), the "Booking for" chip, the legend;
- `cache`: the windows already fetched (plain Python, no Qt);
- `booking`, `appointment`: the dialogs to book a free slot, and to move or cancel a booking;
- `view`: `CalendarView`, the filters and navigation around the grid, with live updates.
"""

from hms_desktop.ui.calendar.appointment import AppointmentDialog, SlotPickerDialog
from hms_desktop.ui.calendar.booking import BookingDialog
from hms_desktop.ui.calendar.cache import Window, WindowCache
from hms_desktop.ui.calendar.grid import CalendarTable, SlotDelegate
from hms_desktop.ui.calendar.model import STATE_WORDS, CalendarModel, Column, countdown
from hms_desktop.ui.calendar.view import CalendarView

__all__ = [
    "STATE_WORDS",
    "AppointmentDialog",
    "BookingDialog",
    "CalendarModel",
    "CalendarTable",
    "CalendarView",
    "Column",
    "SlotDelegate",
    "SlotPickerDialog",
    "Window",
    "WindowCache",
    "countdown",
]
