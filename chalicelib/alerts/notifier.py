"""Channels behind one interface: SES in AWS, an outbox folder of .eml files a person can open locally.

Both channels send the same MIME message, so what HR sees in the outbox is what SES would deliver.
``send_once`` is the only way alerts go out: it claims the alert in the store first, so a retried scan
never sends the same alert twice, and releases the claim when the channel fails so a later run retries.
"""

from __future__ import annotations

import json
import re
from datetime import date
from email.message import EmailMessage
from email.utils import make_msgid
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from chalicelib.models import Alert

if TYPE_CHECKING:
    from mypy_boto3_ses import SESClient

    from chalicelib.store.repository import Repository


class Notifier(Protocol):
    def send(self, alert: Alert) -> str:
        """Deliver ``alert``; returns the channel's message id."""
        ...


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
        msg.add_attachment(
            attachment.text.encode(), maintype=maintype, subtype=subtype, filename=attachment.filename
        )
    return msg


class SesNotifier:
    def __init__(self, client: SESClient, sender: str) -> None:
        self._ses = client
        self._sender = sender

    def send(self, alert: Alert) -> str:
        raw = to_mime(alert, self._sender).as_bytes()
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
            out.write(json.dumps({"file": path.name, "subject": alert.subject, "to": alert.recipient}) + "\n")
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


def send_once(alert: Alert, repo: Repository, notifier: Notifier, sent_on: date) -> bool:
    """Send ``alert`` unless it was sent before; True when an e-mail went out now."""
    if not repo.claim_alert(alert.employee_id, alert.key, sent_on):
        return False
    try:
        message_id = notifier.send(alert)
    except Exception:
        repo.release_alert(alert.employee_id, alert.key)
        raise
    repo.confirm_alert(alert.employee_id, alert.key, message_id)
    return True
