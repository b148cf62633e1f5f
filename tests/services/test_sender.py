"""Reminders, the sending side, against a real SMTP server (aiosmtpd) and a real HTTP
receiver: due messages go once and are marked sent, a reminder waits for its time, a
failing mail server is retried with backoff and the message then marked failed, and two
sender processes on one outbox deliver every message exactly once."""

from __future__ import annotations

import multiprocessing
import queue
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select

from hms_desktop.domain.messages import Channel, MessageKind, MessageRecord, MessageState
from hms_desktop.domain.models import SYSTEM, Actor
from hms_desktop.services import outbox, scheduling
from hms_desktop.services.clinic import Clinic
from hms_desktop.services.delivery import transports_for
from hms_desktop.services.sender import MessageSender, claim, send_due, sender_name
from hms_desktop.store.tables import MessageRow
from tests import factories
from tests.services.message_servers import smtp_server, webhook_receiver
from tests.services.support import free_slot_ids
from tests.stores import StoreSpec


class Clock:
    """The clinic's clock, moved by the test."""

    def __init__(self, clinic: Clinic) -> None:
        self.at = clinic.now()
        clinic.clock = lambda: self.at

    def advance(self, **delta: float) -> None:
        self.at += timedelta(**delta)


def _messages(clinic: Clinic, patient_id: int) -> dict[tuple[MessageKind, Channel], MessageRecord]:
    return {(m.kind, m.channel): m for m in outbox.patient_messages(clinic, SYSTEM, patient_id)}


def _book(clinic: Clinic, desk: Actor, patient_id: int, days_ahead: int = 3) -> int:
    doc = factories.doctor(clinic, first_name="Grace", last_name="Hopper")
    (slot,) = free_slot_ids(clinic, doc.doctor_id, 1, days_ahead=days_ahead)
    hold = scheduling.hold_slot(clinic, desk, slot, patient_id)
    return scheduling.confirm_booking(clinic, desk, slot, patient_id, token=hold.token).id


def test_due_messages_go_by_mail_and_webhook_once_and_the_reminder_at_its_time(
    open_store: Callable[..., Clinic],
) -> None:
    with smtp_server() as (mail, port), webhook_receiver() as (calls, url):
        clinic = open_store(
            message_channels=("email", "sms"),
            smtp_host="127.0.0.1",
            smtp_port=port,
            smtp_security="none",
            smtp_from="desk@clinic.example",
            sms_webhook_url=url,
            sms_webhook_token="gateway-token",
        )
        clock = Clock(clinic)
        _, desk = factories.staff(clinic)
        patient = factories.patient(clinic, desk, email="ann@example.com", phone=factories.phone())
        appointment_id = _book(clinic, desk, patient.id)
        transports, worker = transports_for(clinic.settings), sender_name()

        first = send_due(clinic, transports, worker)
        assert (first.sent, first.retrying, first.failed) == (2, 0, 0)
        (confirmation,) = mail.received
        assert confirmation["To"] == "ann@example.com"
        assert confirmation["From"] == "desk@clinic.example"
        assert confirmation["Subject"].startswith("Clinic: appointment booked for ")
        assert "Grace Hopper" in confirmation.get_payload()
        ((headers, sms),) = calls
        assert sms["to"] == patient.phone and "Grace Hopper" in sms["text"]
        assert headers["Authorization"] == "Bearer gateway-token"
        assert headers["Idempotency-Key"] == f"hms-message-{sms['message_id']}"
        sent = _messages(clinic, patient.id)
        assert sent[MessageKind.CONFIRMATION, Channel.EMAIL].state is MessageState.SENT
        assert sent[MessageKind.CONFIRMATION, Channel.EMAIL].sent_at == clock.at
        assert sent[MessageKind.REMINDER, Channel.EMAIL].state is MessageState.PENDING

        # Nothing more until the reminder's time: a second pass sends nothing twice.
        assert send_due(clinic, transports, worker).sent == 0
        reminder_due = sent[MessageKind.REMINDER, Channel.EMAIL].due_at
        clock.at = reminder_due - timedelta(seconds=1)
        assert send_due(clinic, transports, worker).sent == 0
        clock.at = reminder_due
        assert send_due(clinic, transports, worker).sent == 2
        assert [m["Subject"].split(":")[1].split()[0] for m in mail.received] == [
            "appointment",
            "reminder",
        ]
        assert len(calls) == 2
        assert all(m.state is MessageState.SENT for m in _messages(clinic, patient.id).values())
        assert scheduling.get_appointment(clinic, desk, appointment_id).id == appointment_id


def test_a_failing_mail_server_is_retried_with_backoff_then_marked_failed(
    open_store: Callable[..., Clinic],
) -> None:
    with smtp_server(refuse="451 4.3.0 Try again later") as (mail, port):
        clinic = open_store(
            smtp_host="127.0.0.1",
            smtp_port=port,
            smtp_security="none",
            message_max_attempts=3,
            message_retry_seconds=60,
            reminder_hours=0,
        )
        clock = Clock(clinic)
        _, desk = factories.staff(clinic)
        patient = factories.patient(clinic, desk, email="ann@example.com")
        _book(clinic, desk, patient.id)
        transports, worker = transports_for(clinic.settings), sender_name()

        def state() -> MessageRecord:
            (message,) = outbox.patient_messages(clinic, SYSTEM, patient.id)
            return message

        assert send_due(clinic, transports, worker).retrying == 1
        assert (state().state, state().attempts, mail.tries) == (MessageState.PENDING, 1, 1)
        assert "451" in state().last_error
        # Backoff: 60 s after the first failure, then 120 s after the second.
        clock.advance(seconds=59)
        assert send_due(clinic, transports, worker).retrying == 0 and mail.tries == 1
        clock.advance(seconds=1)
        assert send_due(clinic, transports, worker).retrying == 1 and mail.tries == 2
        clock.advance(seconds=119)
        assert send_due(clinic, transports, worker).failed == 0 and mail.tries == 2
        clock.advance(seconds=1)
        assert send_due(clinic, transports, worker).failed == 1 and mail.tries == 3
        assert (state().state, state().attempts) == (MessageState.FAILED, 3)
        clock.advance(days=1)
        assert send_due(clinic, transports, worker).failed == 0 and mail.tries == 3
        assert mail.received == []


def test_a_refusing_gateway_fails_the_message_at_once(open_store: Callable[..., Clinic]) -> None:
    with webhook_receiver(status=400) as (calls, url):
        clinic = open_store(message_channels=("sms",), sms_webhook_url=url, reminder_hours=0)
        _, desk = factories.staff(clinic)
        patient = factories.patient(clinic, desk, phone=factories.phone())
        _book(clinic, desk, patient.id)
        done = send_due(clinic, transports_for(clinic.settings), sender_name())
        assert done.failed == 1 and len(calls) == 1
        (message,) = outbox.patient_messages(clinic, SYSTEM, patient.id)
        assert message.state is MessageState.FAILED and "400" in message.last_error


def test_a_message_left_sending_by_a_stopped_sender_is_failed_not_resent(
    open_store: Callable[..., Clinic],
) -> None:
    with smtp_server() as (mail, port):
        clinic = open_store(smtp_host="127.0.0.1", smtp_port=port, smtp_security="none")
        clock = Clock(clinic)
        _, desk = factories.staff(clinic)
        patient = factories.patient(clinic, desk, email="ann@example.com")
        _book(clinic, desk, patient.id)
        (taken,) = claim(clinic, "a-sender-that-dies", [Channel.EMAIL])
        clock.advance(minutes=16)
        send_due(clinic, transports_for(clinic.settings), sender_name())
        assert mail.received == []
        stuck = {m.id: m for m in outbox.patient_messages(clinic, SYSTEM, patient.id)}[taken.id]
        assert stuck.state is MessageState.FAILED and "stopped" in stuck.last_error


def test_the_sender_thread_of_serve_delivers_what_is_booked(
    open_store: Callable[..., Clinic],
) -> None:
    with smtp_server() as (mail, port):
        clinic = open_store(smtp_host="127.0.0.1", smtp_port=port, smtp_security="none")
        _, desk = factories.staff(clinic)
        patient = factories.patient(clinic, desk, email="ann@example.com")
        sender = MessageSender(clinic, interval=0.1).start()
        try:
            _book(clinic, desk, patient.id)
            deadline = time.monotonic() + 10
            while not mail.received and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            sender.stop()
        assert len(mail.received) == 1 and not sender.running


MESSAGES = 300


def _due_messages(clinic: Clinic, patient_id: int, count: int) -> None:
    now = datetime.now(UTC)
    with clinic.db.transaction() as session:
        session.execute(
            insert(MessageRow),
            [
                {
                    "patient_id": patient_id,
                    "kind": MessageKind.REMINDER.value,
                    "channel": Channel.EMAIL.value,
                    "recipient": "many@example.com",
                    "subject": f"message {index}",
                    "body": "hello",
                    "state": MessageState.PENDING.value,
                    "due_at": now - timedelta(minutes=1),
                    "next_try_at": now - timedelta(minutes=1),
                    "attempts": 0,
                    "last_error": "",
                    "claimed_by": "",
                    "created_at": now,
                }
                for index in range(count)
            ],
        )


def test_a_claim_takes_at_most_its_batch_and_two_claims_never_share(clinic: Clinic) -> None:
    _, desk = factories.staff(clinic)
    patient = factories.patient(clinic, desk, email="many@example.com")
    _due_messages(clinic, patient.id, 20)
    first = claim(clinic, "one", [Channel.EMAIL], limit=5)
    second = claim(clinic, "two", [Channel.EMAIL], limit=5)
    assert len(first) == len(second) == 5
    assert not {m.id for m in first} & {m.id for m in second}
    with clinic.db.read() as session:
        pending = session.scalars(
            select(MessageRow.id).where(MessageRow.state == MessageState.PENDING.value)
        ).all()
    assert len(pending) == 10


def test_two_sender_processes_deliver_each_message_exactly_once(
    store: StoreSpec, clinic: Clinic
) -> None:
    _, desk = factories.staff(clinic)
    patient = factories.patient(clinic, desk, email="many@example.com")
    _due_messages(clinic, patient.id, MESSAGES)
    # The first message is held until the other process hands one over too: the two are
    # proven to send at the same time, however busy the machine (the scheduler may let one
    # process send everything before the other wakes).
    with smtp_server(rendezvous=2) as (mail, port):
        settings = store.settings(smtp_host="127.0.0.1", smtp_port=port, smtp_security="none")
        context = multiprocessing.get_context("spawn")
        barrier = context.Barrier(2)
        results = context.Queue()
        from tests.services import sender_process

        workers = [
            context.Process(target=sender_process.send, args=(settings, barrier, results))
            for _ in range(2)
        ]
        delivered: list[list[int]] = []
        try:
            for worker in workers:
                worker.start()
            deadline = time.monotonic() + 180
            while len(delivered) < 2:
                assert time.monotonic() < deadline, "the senders did not finish"
                try:
                    delivered.append(results.get(timeout=0.5))
                except queue.Empty:
                    crashed = [w.exitcode for w in workers if w.exitcode not in (None, 0)]
                    assert not crashed, f"a sender process crashed (exit codes {crashed})"
            for worker in workers:
                worker.join(timeout=30)
                assert worker.exitcode == 0
        finally:
            for worker in workers:
                if worker.is_alive():
                    worker.kill()
                    worker.join(timeout=5)
        received = mail.ids()
    with clinic.db.read() as session:
        ids = set(session.scalars(select(MessageRow.id)))
        states = set(session.scalars(select(MessageRow.state)))
    # Every message reached the mail server once: none twice, none lost.
    assert len(received) == MESSAGES and set(received) == ids
    assert sorted(delivered[0] + delivered[1]) == sorted(ids)
    assert states == {MessageState.SENT.value}
    # Both processes took part (each claims five at a time until the outbox is empty).
    assert all(delivered), [len(d) for d in delivered]
    assert mail.met
