"""The clinic's reports: bookings, attendance, no-shows and use of the doctors' time over a
range of days, one row per doctor or per speciality.

What each figure means (the README's "Reports" section says how it is computed):

- booked: appointments whose slot starts in the range (moved ones count at their slot now),
  cancelled ones included; declined requests never had a slot and are not counted;
- attended: arrived, in progress or completed; no-show: marked no-show; cancelled:
  cancelled. A cancellation is never a no-show. What is left (`pending`) is still scheduled
  or was never marked;
- the attended and no-show rates are over the kept appointments (booked minus cancelled: a
  cancelled one was never due); the cancelled rate is over all booked;
- utilisation: minutes of the slots booked and kept over the minutes offered (the doctor's
  slots in the range, less those inside leave, holidays or blocked time unless booked);
- lead time: from when the appointment was made to its start, averaged over kept ones;
- waiting time: from "arrived" to "in progress" (the times the status use case stamps on
  the appointment), averaged over the visits that have both.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

# The longest range one report covers: two years, bounded for the server.
REPORT_MAX_DAYS = 731


class ReportGroup(StrEnum):
    DOCTOR = "doctor"
    SPECIALITY = "speciality"


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass(frozen=True)
class ReportRow:
    """One doctor's or one speciality's figures (`key`: the doctor's or speciality's id, 0
    for doctors without a speciality)."""

    key: int
    name: str
    booked: int
    attended: int
    no_show: int
    cancelled: int
    booked_minutes: int
    offered_minutes: int
    avg_lead_minutes: float | None = None
    avg_wait_minutes: float | None = None
    waits_measured: int = 0
    # Slots filled from the waitlist (its entries marked filled with this row's appointment);
    # 0 until the waitlist is counted (services/reports.py says where).
    waitlist_fills: int = 0

    @property
    def kept(self) -> int:
        return self.booked - self.cancelled

    @property
    def pending(self) -> int:
        return self.kept - self.attended - self.no_show

    @property
    def attended_rate(self) -> float | None:
        return _rate(self.attended, self.kept)

    @property
    def no_show_rate(self) -> float | None:
        return _rate(self.no_show, self.kept)

    @property
    def cancelled_rate(self) -> float | None:
        return _rate(self.cancelled, self.booked)

    @property
    def utilisation(self) -> float | None:
        return _rate(self.booked_minutes, self.offered_minutes)


@dataclass(frozen=True)
class Report:
    first: date
    last: date
    group: ReportGroup
    rows: list[ReportRow]


CSV_HEADER = (
    "name",
    "booked",
    "attended",
    "no_show",
    "cancelled",
    "pending",
    "attended_rate",
    "no_show_rate",
    "cancelled_rate",
    "booked_minutes",
    "offered_minutes",
    "utilisation",
    "avg_lead_hours",
    "avg_wait_minutes",
    "waitlist_fills",
)


def _figure(value: float | None, digits: int = 3) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def _cell(text: str) -> str:
    """A name a spreadsheet will not run as a formula."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@") else text


def report_csv(report: Report) -> str:
    """The report as CSV (rates as fractions, empty where there is nothing to divide)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for row in report.rows:
        lead = None if row.avg_lead_minutes is None else row.avg_lead_minutes / 60
        writer.writerow(
            (
                _cell(row.name),
                row.booked,
                row.attended,
                row.no_show,
                row.cancelled,
                row.pending,
                _figure(row.attended_rate),
                _figure(row.no_show_rate),
                _figure(row.cancelled_rate),
                row.booked_minutes,
                row.offered_minutes,
                _figure(row.utilisation),
                _figure(lead, 1),
                _figure(row.avg_wait_minutes, 1),
                row.waitlist_fills,
            )
        )
    return out.getvalue()
