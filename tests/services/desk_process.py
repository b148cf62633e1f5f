"""A desk in a process of its own, for the multi-process race. A spawned child imports this
module, so it imports only what booking needs."""

from __future__ import annotations

import multiprocessing
import queue
import time
from typing import TYPE_CHECKING, Any

from hms_desktop.config import Settings
from hms_desktop.domain.enums import Role
from hms_desktop.domain.errors import DomainError
from hms_desktop.domain.models import Actor
from hms_desktop.services import scheduling
from hms_desktop.services.clinic import open_clinic

if TYPE_CHECKING:
    from tests.stores import StoreSpec


def book(settings: Settings, slot_id: int, patient_id: int, barrier: Any, results: Any) -> None:
    """Open a Clinic, wait for the other desks, then hold and confirm; report the outcome."""
    clinic = open_clinic(settings, migrate=False)
    try:
        desk = Actor(user_id=None, username=f"desk-{patient_id}", role=Role.RECEPTIONIST)
        barrier.wait(timeout=120)
        try:
            hold = scheduling.hold_slot(clinic, desk, slot_id, patient_id)
            booked = scheduling.confirm_booking(clinic, desk, slot_id, patient_id, token=hold.token)
            results.put(("booked", booked.id))
        except DomainError as error:
            results.put(("error", type(error).__name__))
    finally:
        clinic.close()


def follow_and_act(settings: Settings, commands: Any, heard: Any) -> None:
    """A second desk: reports every change event it hears as (kind, slot id, time heard),
    and does what the test asks ((name, *args) on `commands`; None stops it)."""
    clinic = open_clinic(settings, migrate=False)
    desk = Actor(user_id=None, username="desk-child", role=Role.RECEPTIONIST)
    subscription = clinic.events.subscribe(
        lambda event: heard.put(("event", event.kind, event.slot_id, time.time()))
    )
    heard.put(("ready", None, None, time.time()))
    try:
        while (command := commands.get(timeout=120)) is not None:
            name, *args = command
            try:
                if name == "hold":
                    hold = scheduling.hold_slot(clinic, desk, *args)
                    heard.put(("done", name, hold.token, time.time()))
                elif name == "book":
                    slot_id, patient_id, token = args
                    done = scheduling.confirm_booking(
                        clinic, desk, slot_id, patient_id, token=token
                    )
                    heard.put(("done", name, done.id, time.time()))
                elif name == "move":
                    done = scheduling.reschedule_appointment(clinic, desk, *args)
                    heard.put(("done", name, done.id, time.time()))
                elif name == "cancel":
                    done = scheduling.cancel_appointment(clinic, desk, *args)
                    heard.put(("done", name, done.id, time.time()))
            except DomainError as error:
                heard.put(("error", name, type(error).__name__, time.time()))
    finally:
        subscription.close()
        clinic.close()


class Child:
    """The other desk's process: commands in, what it heard and did out."""

    def __init__(self, store: StoreSpec) -> None:
        context = multiprocessing.get_context("spawn")
        self.commands: Any = context.Queue()
        self.heard: Any = context.Queue()
        self.process = context.Process(
            target=follow_and_act,
            args=(store.settings(), self.commands, self.heard),
        )
        self.done_at = 0.0
        self.process.start()
        assert self._next(lambda item: item[0] == "ready", timeout=60)[0] == "ready"

    def _next(self, wanted: Any, timeout: float = 10.0) -> tuple[Any, ...]:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            assert left > 0 and self.process.exitcode is None, "the other desk went quiet"
            try:
                item = self.heard.get(timeout=min(left, 0.5))
            except queue.Empty:
                continue
            assert item[0] != "error", item
            if wanted(item):
                return tuple(item)

    def heard_within(self, kind: str, slot_id: int, since: float) -> float:
        item = self._next(lambda i: i[0] == "event" and i[1] == kind and i[2] == slot_id)
        return float(item[3]) - since

    def do(self, *command: Any) -> Any:
        """Run a command in the other desk; its answer. `done_at`: when it was done there."""
        self.commands.put(command)
        item = self._next(lambda item: item[0] == "done" and item[1] == command[0])
        self.done_at = float(item[3])
        return item[2]

    def stop(self) -> None:
        self.commands.put(None)
        self.process.join(timeout=30)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(timeout=5)
