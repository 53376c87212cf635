"""Channels behind one interface: SES in AWS, an outbox folder of .eml files a person can open locally,
optionally HR's chat (chalicelib/alerts/chat.py).

SES and the outbox folder send the same MIME message, so what HR sees in the folder is what SES would
deliver. Messages never go to a channel directly: ``chalicelib.alerts.outbox.send_once`` claims each
one in the store first and delivers it through ``Channels``.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import make_msgid
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from chalicelib.models import HR_KINDS, Alert

if TYPE_CHECKING:
    from mypy_boto3_ses import SESClient


LOG = logging.getLogger(__name__)


class Notifier(Protocol):
    def send(self, alert: Alert) -> str:
        """Deliver ``alert``; returns the channel's message id."""
        ...


class TransientChannelError(Exception):
    """The channel said "not now" (throttled, unavailable): worth retrying, after ``retry_after`` s."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


_TRANSIENT_AWS_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "TooManyRequestsException",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "InternalFailure",
        "InternalError",
        "RequestTimeout",
        "RequestTimeoutException",
    }
)


def is_transient(exc: Exception) -> bool:
    """Whether trying again soon may succeed: throttling, 5xx, timeouts, dropped connections."""
    if isinstance(exc, TransientChannelError | ConnectionError | TimeoutError):
        return True
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        error = response.get("Error", {})
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return error.get("Code") in _TRANSIENT_AWS_CODES or int(status or 0) >= 500
    return type(exc).__name__ in {"EndpointConnectionError", "ConnectTimeoutError", "ReadTimeoutError"}


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff for one delivery run; what still fails is retried by the outbox later."""

    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 8.0
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)

    def delay(self, attempt: int, retry_after: float | None) -> float:
        wanted: float = self.base_delay * 2.0 ** (attempt - 1)
        if retry_after is not None:
            wanted = max(wanted, retry_after)
        return min(wanted, self.max_delay)


class RetryingNotifier:
    """Retries transient failures of ``inner`` with backoff; permanent ones (a rejected address) at once."""

    def __init__(self, inner: Notifier, policy: RetryPolicy | None = None) -> None:
        self._inner = inner
        self._policy = policy or RetryPolicy()

    def send(self, alert: Alert) -> str:
        attempt = 1
        while True:
            try:
                return self._inner.send(alert)
            except Exception as exc:
                if attempt >= self._policy.attempts or not is_transient(exc):
                    raise
                wait = self._policy.delay(attempt, getattr(exc, "retry_after", None))
                fields = {"alert_key": alert.key, "attempt": attempt, "wait": wait}
                LOG.warning(
                    "channel busy, retrying %(alert_key)s: attempt %(attempt)s, waiting %(wait)s s",
                    fields,
                    extra=fields,
                )
                self._policy.sleep(wait)
                attempt += 1


class Channels:
    """The named channels a message goes to: e-mail always, HR's chat too for HR's messages."""

    EMAIL = "email"
    CHAT = "chat"

    def __init__(self, email: Notifier, chat: Notifier | None = None) -> None:
        self._by_name: Mapping[str, Notifier] = {self.EMAIL: email, **({self.CHAT: chat} if chat else {})}

    @classmethod
    def of(cls, notifier: Notifier | Channels) -> Channels:
        return notifier if isinstance(notifier, Channels) else cls(notifier)

    def names_for(self, alert: Alert) -> tuple[str, ...]:
        if self.CHAT in self._by_name and alert.kind in HR_KINDS:
            return (self.EMAIL, self.CHAT)
        return (self.EMAIL,)

    def get(self, name: str) -> Notifier:
        return self._by_name[name]

    def send(self, alert: Alert) -> str:
        """Deliver straight to every channel (no outbox): for tools that preview messages."""
        ids = [self._by_name[name].send(alert) for name in self.names_for(alert)]
        return ids[0]


def to_mime(alert: Alert, sender: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = alert.recipient
    msg["Subject"] = alert.subject
    msg["Message-ID"] = make_msgid(domain="coverwatch.local")
    msg["X-Coverwatch-Alert"] = alert.key
    msg.set_content(alert.text)
    msg.add_alternative(alert.html, subtype="html")
    for attachment in alert.attachments:
        maintype, subtype = attachment.content_type.split("/")
        if maintype == "text":  # a str attachment is sent with charset=utf-8 (German .ics text)
            msg.add_attachment(attachment.text, subtype=subtype, filename=attachment.filename)
        else:
            msg.add_attachment(
                attachment.text.encode(), maintype=maintype, subtype=subtype, filename=attachment.filename
            )
    return msg


class SesNotifier:
    def __init__(self, client: SESClient, sender: str, configuration_set: str | None = None) -> None:
        self._ses = client
        self._sender = sender
        self._configuration_set = configuration_set

    def send(self, alert: Alert) -> str:
        raw = to_mime(alert, self._sender).as_bytes()
        if self._configuration_set:
            result = self._ses.send_raw_email(
                Source=self._sender,
                Destinations=[alert.recipient],
                RawMessage={"Data": raw},
                ConfigurationSetName=self._configuration_set,
            )
        else:
            result = self._ses.send_raw_email(
                Source=self._sender, Destinations=[alert.recipient], RawMessage={"Data": raw}
            )
        return result["MessageId"]


class OutboxNotifier:
    """Writes each alert as ``<n>-<slug>.eml`` and keeps an ``index.html`` listing them all.

    The listing is rebuilt from a small ``index.jsonl`` (one line per message) rather than by
    re-reading every .eml, so writing the thousandth message costs what writing the first did.
    """

    LISTING = "index.jsonl"

    def __init__(self, folder: Path, sender: str) -> None:
        self.folder = folder
        self._sender = sender

    def send(self, alert: Alert) -> str:
        self.folder.mkdir(parents=True, exist_ok=True)
        listing = self.folder / self.LISTING
        number = sum(1 for _ in listing.open(encoding="utf-8")) + 1 if listing.exists() else 1
        slug = re.sub(r"[^a-z0-9]+", "-", alert.subject.lower()).strip("-")[:80]
        path = self.folder / f"{number:04d}-{slug}.eml"
        path.write_bytes(to_mime(alert, self._sender).as_bytes())
        with listing.open("a", encoding="utf-8") as out:
            entry = {
                "file": path.name,
                "kind": alert.kind.value,
                "subject": alert.subject,
                "to": alert.recipient,
            }
            out.write(json.dumps(entry) + "\n")
        self.write_index()
        return f"outbox:{path.name}"

    def write_index(self) -> Path:
        listing = self.folder / self.LISTING
        entries = (
            [json.loads(line) for line in listing.read_text(encoding="utf-8").splitlines()]
            if listing.exists()
            else []
        )
        rows = [
            f"<tr><td><a href='{escape(e['file'])}'>{escape(e['subject'])}</a></td>"
            f"<td>{escape(e['to'])}</td></tr>"
            for e in entries
        ]
        index = self.folder / "index.html"
        index.write_text(
            "<!doctype html><html><head><meta charset='utf-8'><title>coverwatch outbox</title></head>"
            "<body style='font-family:sans-serif'><h1>coverwatch outbox</h1>"
            f"<p>{len(rows)} message(s). Open a file to read it in your mail program.</p>"
            "<table><tr><th align='left'>Subject</th><th align='left'>To</th></tr>"
            + "".join(rows)
            + "</table></body></html>",
            encoding="utf-8",
        )
        return index


class FanoutNotifier:
    """Sends through the first channel and copies to the others (e.g. SES plus the local outbox)."""

    def __init__(self, primary: Notifier, *copies: Notifier) -> None:
        self._primary = primary
        self._copies = copies

    def send(self, alert: Alert) -> str:
        message_id = self._primary.send(alert)
        for copy in self._copies:
            copy.send(alert)
        return message_id
