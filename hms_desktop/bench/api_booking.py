"""The booking flow of `hms-desktop bench api`: hold + confirm by 16 patients at once, over
HTTP and, in the same run and on the same database, through the service layer in process.

Three measurements, each on distinct free slots (the cost of the protocol, not of races) and
by patients of its own (a patient's hold counts their upcoming bookings: a later measurement
must not count the earlier ones' too):
- in process: 16 threads, one patient each, calling `hold_slot` and `confirm_booking` as the
  API's routes do (what `bench booking` measures, at the API's concurrency);
- closed loop over HTTP: 16 clients, each starting its next booking when the last is answered
  (the most the server does): its bookings per second against the in-process figure;
- paced over HTTP: the 16 clients together offer half the in-process rate, each booking started
  on a schedule, and its time counted from when it was due (a late start counts too), as
  patients arrive on their own. Its p99 is the latency target.

Why the latency is paced: in a closed loop 16 requests are always waiting, so by Little's law
the mean time of a booking is 16 / (bookings per second); a p99 under 50 ms there would need
more than 320 bookings/s, more than the service layer books in process on 2 cores.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from hms_desktop.bench.raw_http import Connection
from hms_desktop.domain.models import Actor
from hms_desktop.services import scheduling
from hms_desktop.services.clinic import Clinic


@dataclass(frozen=True)
class Flow:
    """Each booking's whole time and its two steps' (seconds), and the run's wall time."""

    bookings: list[float]
    holds: list[float]
    confirms: list[float]
    elapsed: float

    @property
    def per_second(self) -> float:
        return len(self.bookings) / self.elapsed


Booker = Callable[[int, int], None]  # (client, slot id): hold, then confirm


def _run(
    clients: int,
    slots: list[list[int]],
    hold: Booker,
    confirm: Booker,
    due: Callable[[int, int], float] | None = None,
) -> Flow:
    """Client `index` books `slots[index]` in turn. With `due(index, count)` (seconds after
    the start) a booking waits for its time and is timed from it, else from when it began."""
    bookings: list[list[float]] = [[] for _ in range(clients)]
    holds: list[list[float]] = [[] for _ in range(clients)]
    confirms: list[list[float]] = [[] for _ in range(clients)]
    failures: list[BaseException] = []
    start = threading.Barrier(clients + 1)
    began_at = [0.0]

    def book(index: int) -> None:
        start.wait()
        try:
            for count, slot_id in enumerate(slots[index]):
                began = time.perf_counter()
                if due is not None:
                    scheduled = began_at[0] + due(index, count)
                    if scheduled > began:
                        time.sleep(scheduled - began)
                    began = scheduled
                hold(index, slot_id)
                held = time.perf_counter()
                confirm(index, slot_id)
                done = time.perf_counter()
                bookings[index].append(done - began)
                holds[index].append(held - began)
                confirms[index].append(done - held)
        except Exception as error:  # noqa: BLE001 - reported after the run
            failures.append(error)

    threads = [threading.Thread(target=book, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    began_at[0] = time.perf_counter()
    start.wait()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began_at[0]
    if failures:
        raise RuntimeError(f"{len(failures)} clients failed; first: {failures[0]!r}")

    def flat(groups: list[list[float]]) -> list[float]:
        return [value for group in groups for value in group]

    return Flow(flat(bookings), flat(holds), flat(confirms), elapsed)


def in_process(clinic: Clinic, patients: list[Actor], slots: list[list[int]]) -> Flow:
    """The service layer's calls, as the routes make them, from one thread per patient."""
    tokens: dict[int, str] = {}

    def hold(index: int, slot_id: int) -> None:
        tokens[slot_id] = scheduling.hold_slot(clinic, patients[index], slot_id).token

    def confirm(index: int, slot_id: int) -> None:
        scheduling.confirm_booking(clinic, patients[index], slot_id, token=tokens.pop(slot_id))

    return _run(len(patients), slots, hold, confirm)


def _expect(client: Connection, method: str, path: str, body: object, status: int) -> None:
    answer = client.request(method, path, body)
    if answer.status != status:
        raise RuntimeError(f"{method} {path}: {answer.status} {answer.body[:200]!r}")


def _book(client: Connection, method: str, slot_id: int, status: int) -> None:
    _expect(client, method, "/appointments/me", {"slot": slot_id}, status)


def _over_http(clients: list[Connection]) -> tuple[Booker, Booker]:
    def hold(index: int, slot_id: int) -> None:
        _book(clients[index], "POST", slot_id, 201)

    def confirm(index: int, slot_id: int) -> None:
        _book(clients[index], "PUT", slot_id, 200)

    return hold, confirm


def warm_up(clients: list[Connection]) -> None:
    """Each client's connection opened and its patient's list read once, before it is
    timed: a server checks a token in SQL the first time it sees it (then keeps the check),
    and with only 16 clients those first requests would be the run's slowest percent."""
    for client in clients:
        _expect(client, "GET", "/appointments", None, 200)


def closed_loop(clients: list[Connection], slots: list[list[int]]) -> Flow:
    """Each client books its next slot as soon as the last is confirmed."""
    return _run(len(clients), slots, *_over_http(clients))


def paced(clients: list[Connection], slots: list[list[int]], rate: float) -> Flow:
    """The clients together start `rate` bookings a second, evenly spread, each timed from
    when it was due."""
    count = len(clients)
    return _run(
        count, slots, *_over_http(clients), due=lambda index, nth: (nth * count + index) / rate
    )
