"""Delivering the outbox: `serve` claims due messages, hands each to its channel (SMTP for
e-mail, an HTTP webhook for an SMS gateway) and marks it sent, or retries it with backoff
and in the end marks it failed.

Never twice, however many server processes send: a claim is one UPDATE of pending rows to
"sending" under this sender's name, its rows picked with `FOR UPDATE SKIP LOCKED` on
PostgreSQL (two senders skip each other's rows instead of waiting); SQLite runs one writer
at a time, so the same statement is one process's claim there. Marking sent or failed asks
for the row still claimed by this sender. A row left "sending" by a sender that stopped
mid-send is marked failed, not sent again: it may have gone already.
"""

from __future__ import annotations

import logging
import os
import platform
import threading
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.orm import Session

from hms_desktop.domain.messages import OPTED_OUT, Channel, MessageState, retry_delay
from hms_desktop.services.clinic import Clinic
from hms_desktop.services.delivery import DeliveryError, Outgoing, Transport, transports_for
from hms_desktop.store.tables import MessageRow, Patient, User

log = logging.getLogger(__name__)

BATCH = 50
# A sender that claimed a message this long ago and has not marked it has stopped.
SENDING_LEASE = timedelta(minutes=15)
ERROR_MAX = 1000


def sender_name() -> str:
    return f"{platform.node()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def claim(
    clinic: Clinic, worker: str, channels: list[Channel], limit: int = BATCH
) -> list[Outgoing]:
    """Take up to `limit` due messages of `channels` for `worker`, oldest due first."""
    now = clinic.now()
    ready = (
        select(MessageRow.id)
        .where(
            MessageRow.state == MessageState.PENDING.value,
            MessageRow.next_try_at <= now,
            MessageRow.channel.in_([channel.value for channel in channels]),
        )
        .order_by(MessageRow.next_try_at, MessageRow.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
        # A CTE, run once: as a plain IN (subquery) PostgreSQL plans a semi-join that
        # re-runs the locking subquery per row and claims every due row, not `limit`.
        .cte("ready")
    )
    take = (
        update(MessageRow)
        .where(
            MessageRow.id.in_(select(ready.c.id)),
            MessageRow.state == MessageState.PENDING.value,
        )
        .values(state=MessageState.SENDING.value, claimed_by=worker, claimed_at=now)
        .returning(
            MessageRow.id,
            MessageRow.patient_id,
            MessageRow.channel,
            MessageRow.recipient,
            MessageRow.subject,
            MessageRow.body,
            MessageRow.attempts,
        )
    )
    with clinic.db.transaction() as session:
        claimed = session.execute(take, execution_options={"synchronize_session": False})
        rows = _readdress(session, [dict(row._mapping) for row in claimed])
    return sorted(
        (
            Outgoing(
                id=row["id"],
                channel=Channel(row["channel"]),
                recipient=row["recipient"],
                subject=row["subject"],
                body=row["body"],
                attempts=row["attempts"],
            )
            for row in rows
        ),
        key=lambda message: message.id,
    )


NO_ADDRESS = "Not sent: the patient no longer has an address for this channel."


def _readdress(session: Session, claimed: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The claimed messages sent to where the patient is reached now, not where they were
    when the message was written (a reminder waits days: the patient may have opted out or
    changed their e-mail or phone meanwhile). An opted-out patient's, or one with no address
    left, are withdrawn; a changed address is written on the message."""
    if not claimed:
        return claimed
    current = {
        row.id: row
        for row in session.execute(
            select(Patient.id, Patient.phone, Patient.messages_opt_out, User.email)
            .join(User, User.id == Patient.user_id)
            .where(Patient.id.in_(sorted({row["patient_id"] for row in claimed})))
        )
    }
    kept = []
    for row in claimed:
        patient = current.get(row["patient_id"])
        address = ""
        if patient is not None and not patient.messages_opt_out:
            address = (
                patient.email if row["channel"] == Channel.EMAIL.value else patient.phone
            ) or ""
        if not address:
            opted_out = patient is not None and patient.messages_opt_out
            session.execute(
                update(MessageRow)
                .where(MessageRow.id == row["id"])
                .values(
                    state=MessageState.WITHDRAWN.value,
                    last_error=OPTED_OUT if opted_out else NO_ADDRESS,
                    claimed_by="",
                ),
                execution_options={"synchronize_session": False},
            )
            continue
        if address != row["recipient"]:
            session.execute(
                update(MessageRow).where(MessageRow.id == row["id"]).values(recipient=address),
                execution_options={"synchronize_session": False},
            )
            row = {**row, "recipient": address}
        kept.append(row)
    return kept


def _mine(worker: str, message_id: int) -> tuple[ColumnElement[bool], ...]:
    return (
        MessageRow.id == message_id,
        MessageRow.state == MessageState.SENDING.value,
        MessageRow.claimed_by == worker,
    )


def mark_sent(clinic: Clinic, worker: str, message: Outgoing) -> None:
    with clinic.db.transaction() as session:
        session.execute(
            update(MessageRow)
            .where(*_mine(worker, message.id))
            .values(
                state=MessageState.SENT.value,
                sent_at=clinic.now(),
                attempts=message.attempts + 1,
                last_error="",
            ),
            execution_options={"synchronize_session": False},
        )


def mark_failed_try(
    clinic: Clinic, worker: str, message: Outgoing, error: DeliveryError
) -> MessageState:
    """One more failed try: back to pending after a growing wait, or failed for good (after
    `message_max_attempts`, or at once when the server refused it outright)."""
    settings = clinic.settings
    attempts = message.attempts + 1
    final = error.permanent or attempts >= settings.message_max_attempts
    state = MessageState.FAILED if final else MessageState.PENDING
    next_try = clinic.now() + retry_delay(attempts, settings.message_retry_seconds)
    with clinic.db.transaction() as session:
        session.execute(
            update(MessageRow)
            .where(*_mine(worker, message.id))
            .values(
                state=state.value,
                attempts=attempts,
                last_error=str(error)[:ERROR_MAX],
                next_try_at=next_try,
                claimed_by="",
            ),
            execution_options={"synchronize_session": False},
        )
    return state


def fail_abandoned(clinic: Clinic) -> int:
    """Messages a stopped sender left "sending": failed, since they may have gone."""
    with clinic.db.transaction() as session:
        result = session.execute(
            update(MessageRow)
            .where(
                MessageRow.state == MessageState.SENDING.value,
                MessageRow.claimed_at < clinic.now() - SENDING_LEASE,
            )
            .values(
                state=MessageState.FAILED.value,
                last_error="The sender stopped while sending it; not sent again, as it may "
                "have gone.",
            ),
            execution_options={"synchronize_session": False},
        )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]  # a CursorResult's


def _deliver(transport: Transport, message: Outgoing) -> None:
    """Hand one message over; anything a transport raises is this message's failure, never
    the batch's (an escaping error would leave the rest of the batch claimed and unsent,
    to be failed unsent when their lease runs out)."""
    try:
        transport.send(message)
    except DeliveryError:
        raise
    except Exception as error:
        log.exception("message %s could not be handed over", message.id)
        raise DeliveryError(
            f"could not be sent: {type(error).__name__}: {error}", permanent=True
        ) from error


@dataclass
class Pass:
    """What one pass over the outbox did."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0
    ids: list[int] = field(default_factory=list)  # the messages this pass delivered


def send_due(
    clinic: Clinic,
    transports: dict[Channel, Transport],
    worker: str,
    limit: int = BATCH,
    stop: threading.Event | None = None,
) -> Pass:
    """Claim what is due and deliver it, a batch at a time, until nothing due is left (or
    `stop` is set: the batch in hand is finished first)."""
    done = Pass()
    fail_abandoned(clinic)
    channels = list(transports)
    if not channels:
        return done
    while True:
        batch = claim(clinic, worker, channels, limit)
        for message in batch:
            try:
                _deliver(transports[message.channel], message)
            except DeliveryError as error:
                state = mark_failed_try(clinic, worker, message, error)
                log.warning("message %s to %s: %s (%s)", message.id, message.channel, error, state)
                if state is MessageState.FAILED:
                    done.failed += 1
                else:
                    done.retrying += 1
                continue
            mark_sent(clinic, worker, message)
            done.sent += 1
            done.ids.append(message.id)
        if len(batch) < limit or (stop is not None and stop.is_set()):
            return done


class MessageSender:
    """`serve`'s sender: a pass over the outbox every `message_poll_seconds` until `stop()`,
    in a background thread (like the slot keeper)."""

    def __init__(
        self,
        clinic: Clinic,
        transports: dict[Channel, Transport] | None = None,
        interval: float | None = None,
    ) -> None:
        self.clinic = clinic
        self.transports = transports if transports is not None else transports_for(clinic.settings)
        self.interval = interval if interval is not None else clinic.settings.message_poll_seconds
        self.worker = sender_name()
        self.passes = 0
        self.sent = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="message-sender", daemon=True)

    def start(self) -> MessageSender:
        log.info(
            "sending messages by %s every %.0f s",
            ", ".join(self.transports) or "no channel",
            self.interval,
        )
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.sent += send_due(
                    self.clinic, self.transports, self.worker, stop=self._stop
                ).sent
            except Exception:
                # A database away for a moment must not end the sending for good.
                log.exception("could not send the due messages; trying again later")
            self.passes += 1
            if self._stop.wait(self.interval):
                return

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("the message sender did not stop within %.0f s", timeout)
