"""The channels a message leaves by: e-mail through the clinic's SMTP server, SMS through
an SMS gateway's HTTP webhook. Each either hands the message over or raises `DeliveryError`,
saying whether trying again later may help."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Protocol

import httpx

from hms_desktop.config import Settings
from hms_desktop.domain.messages import Channel

TIMEOUT_SECONDS = 20.0
# Webhook answers that mean "this request will never work" (the rest: try again later).
_RETRYABLE_CLIENT_ERRORS = {408, 425, 429}


@dataclass(frozen=True)
class Outgoing:
    """A claimed message on its way out."""

    id: int
    channel: Channel
    recipient: str
    subject: str
    body: str
    attempts: int  # tries before this one


class DeliveryError(Exception):
    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class Transport(Protocol):
    def send(self, message: Outgoing) -> None: ...


class SmtpTransport:
    """One connection per message: a clinic sends a few hundred a day, and a connection
    kept open between polls would only time out on the server's side."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def _connect(self) -> smtplib.SMTP:
        settings = self.settings
        if settings.smtp_security == "ssl":
            return smtplib.SMTP_SSL(
                settings.smtp_host,
                settings.smtp_port,
                timeout=TIMEOUT_SECONDS,
                context=ssl.create_default_context(),
            )
        server = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=TIMEOUT_SECONDS)
        if settings.smtp_security == "starttls":
            server.starttls(context=ssl.create_default_context())
        return server

    def send(self, message: Outgoing) -> None:
        settings = self.settings
        mail = EmailMessage()
        mail["From"] = settings.smtp_from or f"hms-desktop@{settings.smtp_host}"
        mail["To"] = message.recipient
        mail["Subject"] = message.subject
        mail["Message-ID"] = make_msgid(idstring=f"hms-{message.id}")
        # The outbox row it came from: a receiving system can tell a repeat from a new one.
        mail["X-HMS-Message-Id"] = str(message.id)
        mail.set_content(message.body)
        # Exactly the one address stored: "billing,ann@example.com" (a comma passes a loose
        # check) would also mail the relay's local "billing" mailbox.
        if len(mail["To"].addresses) != 1 or not mail["To"].addresses[0].domain:
            raise DeliveryError(f"not one e-mail address: {message.recipient!r}", permanent=True)
        try:
            with self._connect() as server:
                if settings.smtp_user:
                    server.login(settings.smtp_user, settings.smtp_password)
                server.send_message(mail, to_addrs=[mail["To"].addresses[0].addr_spec])
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _text in error.recipients.values()]
            raise DeliveryError(
                f"the mail server refused {message.recipient}: {codes}",
                permanent=all(500 <= code < 600 for code in codes),
            ) from error
        except smtplib.SMTPResponseException as error:
            reply = error.smtp_error
            text = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
            raise DeliveryError(
                f"the mail server answered {error.smtp_code} {text}".strip(),
                permanent=500 <= error.smtp_code < 600,
            ) from error
        except (smtplib.SMTPException, OSError) as error:
            raise DeliveryError(f"the mail server could not be reached: {error}") from error


class WebhookTransport:
    """POSTs `{"to", "text", "message_id"}` as JSON; any 2xx answer is delivered. The
    `Idempotency-Key` header lets a gateway drop a repeat."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def send(self, message: Outgoing) -> None:
        headers = {"Idempotency-Key": f"hms-message-{message.id}"}
        if self.settings.sms_webhook_token:
            headers["Authorization"] = f"Bearer {self.settings.sms_webhook_token}"
        payload = {"to": message.recipient, "text": message.body, "message_id": message.id}
        try:
            answer = httpx.post(
                self.settings.sms_webhook_url,
                json=payload,
                headers=headers,
                timeout=TIMEOUT_SECONDS,
            )
        except httpx.HTTPError as error:
            raise DeliveryError(f"the SMS gateway could not be reached: {error}") from error
        if answer.is_success:
            return
        status = answer.status_code
        raise DeliveryError(
            f"the SMS gateway answered {status} {answer.text[:200]}".strip(),
            permanent=400 <= status < 500 and status not in _RETRYABLE_CLIENT_ERRORS,
        )


def transports_for(settings: Settings) -> dict[Channel, Transport]:
    """The channels this server can send by (its settings name a server for them)."""
    transports: dict[Channel, Transport] = {}
    if settings.smtp_host:
        transports[Channel.EMAIL] = SmtpTransport(settings)
    if settings.sms_webhook_url:
        transports[Channel.SMS] = WebhookTransport(settings)
    return transports
