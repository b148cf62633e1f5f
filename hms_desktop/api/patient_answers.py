"""A patient's own answers (`GET /appointments`), kept per patient, checked in Redis on use.

The public's answers (api/answer_cache.py) are the same for everyone; a patient's list is
theirs alone. It is kept under the acting user's role, account, patient and doctor ids
(never under a path or a token: two patients never share an entry) together with the values
four Redis keys held before the list was read from SQL:

- the patient's and the clinic's change keys (store/events.change_key): every change event
  (a hold, booking, reschedule, cancel or status change by the patient or any desk) rewrites
  its patient's key, or the clinic's when it concerns no one patient (a doctor's details),
  in the round trip that publishes it, before the request that made it has its answer;
- the clinic's and the account's keys (services/account_versions.py): the account's name
  (on every record of the list) or role changed.

A kept list is answered only while all four still hold those values (one Redis read, the
same one that confirms the token's kept check: api/fast_path.py) and for at most
`answer_cache_seconds`, which bounds what no event announces. Redis unavailable, or not
configured: nothing is kept, the list is read every time.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool

from hms_desktop.domain.enums import Role
from hms_desktop.domain.errors import RedisUnavailable
from hms_desktop.domain.models import Actor
from hms_desktop.services.account_versions import account_key, change_key

from .sign_ins import RedisKeys, Values

MAX_KEPT_PATIENTS = 4096


@dataclass(frozen=True)
class KeptAnswer:
    body: bytes
    kept_at: float
    values: Values  # the version keys' values before the list was read


AnswerKey = tuple[Role, int | None, int | None, int | None]


def answer_key(actor: Actor) -> AnswerKey:
    """Everything of the actor the list's query reads (api/booking.my_appointments)."""
    return (actor.role, actor.user_id, actor.patient_id, actor.doctor_id)


class PatientAnswers:
    def __init__(
        self,
        keys: RedisKeys,
        prefix: str,
        *,
        max_age: float,
        max_entries: int = MAX_KEPT_PATIENTS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._keys = keys
        self._prefix = prefix
        self._max_age = max_age
        self._max_entries = max_entries
        self._clock = clock
        self._kept: OrderedDict[AnswerKey, KeptAnswer] = OrderedDict()

    def keeps(self, actor: Actor) -> bool:
        return (
            self._keys.enabled
            and self._max_age > 0
            and actor.role is Role.PATIENT
            and actor.patient_id is not None
        )

    def version_keys(self, actor: Actor) -> tuple[str, ...]:
        """The clinic's and the account's keys (a token check's, in that order), then the
        clinic's and the patient's change keys."""
        return (
            account_key(self._prefix, None),
            account_key(self._prefix, actor.user_id),
            change_key(self._prefix, None),
            change_key(self._prefix, actor.patient_id),
        )

    def kept(self, actor: Actor) -> KeptAnswer | None:
        """The list kept for this actor while younger than `max_age` (not yet confirmed)."""
        key = answer_key(actor)
        answer = self._kept.get(key)
        if answer is None:
            return None
        if self._clock() - answer.kept_at >= self._max_age:
            del self._kept[key]
            return None
        return answer

    @staticmethod
    def confirmed(answer: KeptAnswer, values: Values) -> bool:
        return None not in values and values == answer.values

    async def answer(self, actor: Actor, compute: Callable[[], bytes]) -> bytes:
        """The actor's list: kept and confirmed in Redis, else `compute()`'s in a worker
        thread (kept when the keys could be read first)."""
        if not self.keeps(actor):
            return await run_in_threadpool(compute)
        keys = self.version_keys(actor)
        values: Values | None
        try:
            kept = self.kept(actor)
            if kept is not None and self.confirmed(kept, await self._keys.read(keys)):
                return kept.body
            values = await self._keys.settle(keys)  # before SQL is read
        except RedisUnavailable:
            values = None
        started = self._clock()
        body = await run_in_threadpool(compute)
        if values is not None and None not in values:
            key = answer_key(actor)
            self._kept[key] = KeptAnswer(body, started, values)
            self._kept.move_to_end(key)
            while len(self._kept) > self._max_entries:
                self._kept.popitem(last=False)
        return body
