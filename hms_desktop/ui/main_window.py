"""The main window: navigation adapted to the role, the lost-connection banner, live events.

The banner shows whenever the desk cannot reach the clinic: a call failed for it, or the
live change stream (remote) or the store probe (on the database) says so, idle or not; it
goes when a call gets through or the stream is back."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from PySide6.QtCore import QObject, QSettings, QSize, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QProgressBar,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from hms_desktop.domain.enums import Role
from hms_desktop.domain.errors import BackendUnavailable
from hms_desktop.domain.models import (
    OFFLINE,
    RESYNC,
    STORE_AWAY,
    STORE_BACK,
    ChangeEvent,
    DoctorSummary,
    PatientRecord,
    UserInfo,
)
from hms_desktop.services.backend import Backend
from hms_desktop.ui import theme
from hms_desktop.ui.admin.view import AdminView
from hms_desktop.ui.arrivals import ArrivalsView
from hms_desktop.ui.calendar import CalendarView
from hms_desktop.ui.common import Banner, plain
from hms_desktop.ui.doctors import DoctorsView
from hms_desktop.ui.live import Listening
from hms_desktop.ui.password import ChangePasswordDialog
from hms_desktop.ui.patients import PatientsView
from hms_desktop.ui.requests import RequestsView
from hms_desktop.ui.tasks import Tasks
from hms_desktop.ui.today import TodayView
from hms_desktop.ui.waitlist import WaitlistView

log = logging.getLogger(__name__)


class EventRelay(QObject):
    """Backend events arrive on another thread; this signal carries them to the GUI thread."""

    changed = Signal(object)

    def deliver(self, event: ChangeEvent) -> None:
        try:
            self.changed.emit(event)
        except RuntimeError:
            log.debug("change event after the window closed")


# A first start opens at this size, or smaller on a smaller screen.
FIRST_SIZE = QSize(1366, 768)
# Room for the title bar and borders the window manager draws around the window: without
# it, a 1366×768 screen cuts off the status bar, where the desk's messages appear.
FRAME_ROOM = QSize(16, 48)


# The smallest window: on a 1024×640 screen, with its title bar, the status bar still shows.
SMALLEST_SIZE = QSize(1024, 640) - QSize(0, FRAME_ROOM.height())


def first_size(available: QSize) -> QSize:
    """The main window's size on a first start, on a screen with `available` room."""
    return FIRST_SIZE.boundedTo(available - FRAME_ROOM)


def desk_settings() -> QSettings:
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, "hms-desktop", "desk")


def user_key(username: str, name: str) -> str:
    """A remembered setting's key for one user: several people share a workstation."""
    who = "".join(c if c.isalnum() or c in "-_.@" else "_" for c in username.casefold())
    return f"users/{who or '_'}/{name}"


class MainWindow(QMainWindow):
    logged_out = Signal()

    def __init__(
        self,
        backend: Backend,
        user: UserInfo,
        tz: ZoneInfo,
        settings: QSettings | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.backend, self.user, self.tz = backend, user, tz
        self.settings = settings or desk_settings()
        self.setWindowTitle(f"hms-desktop — {user.full_name or user.username} ({user.role.value})")
        self.setWindowIcon(theme.icon("app"))
        self.setMinimumSize(SMALLEST_SIZE)
        self.tasks = Tasks(self)
        views = self._build_views()
        self._build_navigation(views)
        self.setCentralWidget(self._build_central())
        self._build_status_bar()
        self._connect_views()
        self._add_shortcuts()
        self.relay = EventRelay(self)
        self.relay.changed.connect(self.on_change)
        # In the background: subscribing waits for a server or Redis that is away.
        self.listening: Listening | None = Listening(backend, self.relay.deliver)
        self._start_views()
        self._restore()

    @property
    def is_doctor(self) -> bool:
        return self.user.role is Role.DOCTOR

    @property
    def is_admin(self) -> bool:
        return self.user.role is Role.ADMIN

    @property
    def is_desk(self) -> bool:
        return self.user.role in (Role.ADMIN, Role.RECEPTIONIST)

    def _build_views(self) -> list[tuple[str, str, QWidget]]:
        """Every view, and the ones this role sees in the navigation (name, title, view)."""
        backend, tz, user = self.backend, self.tz, self.user
        today = datetime.now(UTC).astimezone(tz).date()
        self.patients = PatientsView(backend, self.tasks, tz, self)
        self.doctors = DoctorsView(backend, self.tasks, tz, self)
        self.calendar = CalendarView(backend, self.tasks, tz, self)
        self.today = TodayView(
            backend, self.tasks, tz, today, own_doctor_id=user.doctor_id if self.is_doctor else None
        )
        self.requests = RequestsView(backend, self.tasks, tz, self)
        self.arrivals = ArrivalsView(backend, self.tasks, tz, today, self)
        self.waitlist = WaitlistView(backend, self.tasks, tz, self)
        views: list[tuple[str, str, QWidget]] = []
        if self.is_doctor:
            views.append(("today", "My day", self.today))
        views += [("patients", "Patients", self.patients), ("doctors", "Doctors", self.doctors)]
        views.append(("calendar", "Calendar", self.calendar))
        if self.is_desk:
            views += [
                ("today", "Today", self.today),
                ("arrivals", "Arrivals", self.arrivals),
                ("requests", "Requests", self.requests),
                ("waitlist", "Waitlist", self.waitlist),
            ]
        # The admin area exists for admins only: no other role gets even the widgets.
        self.admin: AdminView | None = None
        if self.is_admin:
            self.admin = AdminView(backend, self.tasks, tz, self)
            views.append(("admin", "Admin", self.admin))
        if not self.is_desk:
            self.arrivals.hide()  # not in the stack: never shown loose in the window
            self.requests.hide()
            self.waitlist.hide()
            self.patients.waitlist_button.hide()
            self.patients.new_button.hide()
            self.patients.edit_button.hide()
            self.patients.book_button.hide()
        self.view_names = [name for name, _, _ in views]
        return views

    def _build_navigation(self, views: list[tuple[str, str, QWidget]]) -> None:
        """The list on the left and the stack of views it switches (Ctrl+1, Ctrl+2…)."""
        self.navigation = QListWidget(self)
        self.navigation.setObjectName("Navigation")
        self.navigation.setFixedWidth(180)
        self.navigation.setIconSize(QSize(22, 22))
        self.stack = QStackedWidget(self)
        for number, (name, title, widget) in enumerate(views, start=1):
            item = QListWidgetItem(theme.icon(name, "#ffffff"), title, self.navigation)
            item.setToolTip(f"{title} (Ctrl+{number})")
            self.stack.addWidget(widget)
            QShortcut(
                QKeySequence(f"Ctrl+{number}"), self, lambda n=number - 1: self.show_view_at(n)
            )
        self.navigation.currentRowChanged.connect(self.stack.setCurrentIndex)

    def _build_central(self) -> QWidget:
        """Navigation on the left; on the right the banner, the header and the view."""
        self.banner = Banner(self)
        content = QWidget(self)
        content_layout = QVBoxLayout(content)
        content_layout.setContentsMargins(0, 0, 0, 0)
        content_layout.setSpacing(0)
        content_layout.addWidget(self.banner)
        content_layout.addWidget(self._build_header())
        content_layout.addWidget(self.stack, 1)
        central = QWidget(self)
        layout = QHBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.navigation)
        layout.addWidget(content, 1)
        return central

    def _build_header(self) -> QWidget:
        """The view's title, who is logged in, and the log-out button."""
        header = QWidget(self)
        header_layout = QHBoxLayout(header)
        header_layout.setContentsMargins(12, 6, 12, 0)
        self.view_title = QLabel(self)
        self.view_title.setObjectName("Title")
        user = self.user
        who = plain(QLabel(f"{user.full_name or user.username} · {user.role.value}", self))
        who.setObjectName("Subtitle")
        self.password_button = QPushButton("Change password…", self)
        self.password_button.setToolTip("Change your own password (Ctrl+Shift+P)")
        self.password_button.clicked.connect(self.change_password)
        self.logout_button = QPushButton(theme.icon("logout"), "Log out", self)
        self.logout_button.clicked.connect(self.log_out)
        header_layout.addWidget(self.view_title)
        header_layout.addStretch(1)
        header_layout.addWidget(who)
        header_layout.addWidget(self.password_button)
        header_layout.addWidget(self.logout_button)
        return header

    def _build_status_bar(self) -> None:
        """Where the backend is, and a busy bar while calls run."""
        self.busy = QProgressBar(self)
        self.busy.setRange(0, 0)
        self.busy.setFixedWidth(120)
        self.busy.setTextVisible(False)
        self.busy.hide()
        self.statusBar().addPermanentWidget(QLabel(self.backend.description, self))
        self.statusBar().addPermanentWidget(self.busy)

    def _connect_views(self) -> None:
        self.navigation.currentRowChanged.connect(self._view_changed)
        self.tasks.connection_lost.connect(self.banner.show_lost)
        self.tasks.connection_back.connect(self.banner.hide)
        self.tasks.busy_changed.connect(self.busy.setVisible)
        self.tasks.failed.connect(self.show_message)
        # A revoked or expired session (remote mode) goes back to the log-in window.
        self.tasks.session_expired.connect(self._session_expired)
        for view in (self.calendar, self.today, self.arrivals, self.requests, self.waitlist):
            view.message.connect(self.show_message)
        if self.admin is not None:
            self.admin.message.connect(self.show_message)
        self.requests.waiting.connect(self._count_requests)
        self.patients.book_requested.connect(self.book_for)
        self.patients.waitlist_requested.connect(self.waitlist.add_for)
        self.doctors.calendar_requested.connect(self.calendar_for)

    def _add_shortcuts(self) -> None:
        QShortcut(QKeySequence("Ctrl+F"), self, self.find_patient)
        if self.is_desk:
            QShortcut(QKeySequence("Ctrl+N"), self, self.new_patient)
        QShortcut(QKeySequence("F5"), self, self.refresh)
        QShortcut(QKeySequence("Ctrl+Shift+P"), self, self.change_password)

    def _start_views(self) -> None:
        self.doctors.start()
        if self.is_doctor and self.user.doctor_id is not None:
            self.calendar.keep_to_doctor(self.user.doctor_id)
        self.calendar.start()
        self.today.start()
        if self.is_desk:
            self.arrivals.start()
            self.requests.start()
            self.waitlist.start()

    # --- navigation ------------------------------------------------------------------------
    def show_view(self, name: str) -> None:
        if name in self.view_names:
            self.show_view_at(self.view_names.index(name))

    def show_view_at(self, row: int) -> None:
        """Switch views from the keyboard (Ctrl+1…) or code: typing goes on in the view, so
        Patients starts in its search box (from the list, the arrows keep moving in it)."""
        if 0 <= row < self.navigation.count():
            self.navigation.setCurrentRow(row)
            if self.stack.widget(row) is self.patients:
                self.patients.focus_search()

    def current_view(self) -> str:
        return self.view_names[self.navigation.currentRow()]

    def _view_changed(self, row: int) -> None:
        item = self.navigation.item(row)
        self.view_title.setText(item.text() if item else "")
        # A message is about the view that showed it: it does not linger into the next.
        self.statusBar().clearMessage()
        # The admin area asks for its data only once an admin opens it.
        if self.admin is not None and self.stack.widget(row) is self.admin:
            self.admin.start()

    def _count_requests(self, count: int) -> None:
        """The Requests entry says how many wait: "Requests (3)"."""
        if "requests" not in self.view_names:
            return
        row = self.view_names.index("requests")
        title = f"Requests ({count})" if count else "Requests"
        self.navigation.item(row).setText(title)
        if self.navigation.currentRow() == row:
            self.view_title.setText(title)

    def find_patient(self) -> None:
        self.show_view("patients")
        self.patients.focus_search()

    def new_patient(self) -> None:
        self.show_view("patients")
        self.patients.new_patient()

    def book_for(self, patient: PatientRecord) -> None:
        self.calendar.set_patient(patient)
        self.show_view("calendar")
        self.show_message(f"Pick a free slot for {patient.full_name}.")

    def calendar_for(self, doctor: DoctorSummary) -> None:
        self.calendar.show_doctor(doctor)
        self.show_view("calendar")

    def refresh(self) -> None:
        self.doctors.reload()
        self.calendar.reload()
        self.today.reload()
        if self.is_desk:
            self.arrivals.reload()
            self.requests.reload()
            self.waitlist.reload()
        if self.admin is not None:
            self.admin.reload()
        self.patients.search.refresh()

    def change_password(self) -> ChangePasswordDialog:
        self.password_dialog = ChangePasswordDialog(self.backend, self.tasks, parent=self)
        self.password_dialog.changed.connect(
            lambda _user: self.show_message("Your password was changed.")
        )
        self.password_dialog.open()
        return self.password_dialog

    def show_message(self, text: str) -> None:
        self.statusBar().showMessage(text, 10_000)

    def on_change(self, event: ChangeEvent) -> None:
        # The server (or a store it needs) is away, or back: the banner, before any click.
        if event.kind in (OFFLINE, STORE_AWAY):
            self.tasks.report_lost(str(event.extra.get("message") or BackendUnavailable.message))
            return
        if event.kind in (RESYNC, STORE_BACK):
            # Back after a gap: changes made meanwhile were not heard; reload everything
            # shown, the views that had given up included (F5's work, done for the desk).
            self.tasks.report_back()
            self.refresh()
            return
        if event.kind == "waitlist":  # an entry added, withdrawn or filled: no slot changed
            if self.is_desk:
                self.waitlist.on_change(event)
            return
        self.calendar.on_change(event)
        self.today.on_change(event)
        self.patients.on_change(event)
        if self.is_desk:
            self.arrivals.on_change(event)
            self.requests.on_change(event)
            self.waitlist.on_change(event)
        if self.admin is not None:
            self.admin.on_change(event)

    # --- remembered between runs, per user (a doctor after a receptionist starts on My day) ---
    def _key(self, name: str) -> str:
        return user_key(self.user.username, name)

    def _restore(self) -> None:
        geometry = self.settings.value(self._key("main/geometry"))
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(first_size(self.screen().availableGeometry().size()))
        last = self.settings.value(self._key("main/view"), "")
        self.show_view_at(self.view_names.index(last) if last in self.view_names else 0)
        self.calendar.set_week(self.settings.value(self._key("calendar/week"), "true") == "true")

    def _save(self) -> None:
        self.settings.setValue(self._key("main/geometry"), self.saveGeometry())
        self.settings.setValue(self._key("main/view"), self.current_view())
        week = "true" if self.calendar.week else "false"
        self.settings.setValue(self._key("calendar/week"), week)
        self.settings.sync()

    def _stop_listening(self) -> None:
        self.tasks.stop_retrying()
        if self.listening is not None:
            self.listening.close()  # in the background
            self.listening = None

    def _session_expired(self, _text: str) -> None:
        if self.isVisible():  # several calls may fail at once; leave only once
            self.log_out()

    def log_out(self) -> None:
        self._save()
        self._stop_listening()
        self.tasks.run(self.backend.logout)
        self.hide()
        self.logged_out.emit()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        self._save()
        self._stop_listening()
        super().closeEvent(event)
