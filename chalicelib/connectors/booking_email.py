"""Find the schema.org reservations in a booking-confirmation e-mail (.eml) or its HTML.

Why: employers can forward or CC their booking tool's confirmations to coverwatch. Airlines, hotel
chains, rail operators and travel agencies put machine-readable markup in those mails (the Gmail
markup formats): JSON-LD in ``<script type="application/ld+json">`` or schema.org microdata
(``itemscope``/``itemtype``/``itemprop``). This module digs that markup out of every HTML part —
also inside ``multipart/alternative`` and forwarded messages (``message/rfc822`` parts) — and of
``application/ld+json`` attachments, and hands it to ``bookings.read_reservations``.

Only the standard library is used (``email`` with the default policy for MIME and charsets,
``html.parser`` for tolerant HTML): confirmation mails are routinely broken HTML, so nothing here
assumes well-formed markup. Plain-text confirmations carry no structured data and say so as a
problem instead of guessing from prose. The mail body itself is never kept.

Limits: microdata ``itemref`` is not followed; markup a mail client removed while forwarding (Gmail
drops ``<script>`` from forwarded HTML) cannot be recovered.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import Message
from html.parser import HTMLParser
from typing import Any

from chalicelib.connectors.bookings import (
    DEFAULT_CALENDAR_ID,
    BookingsResult,
    read_reservations,
)
from chalicelib.models import SourceKind, SourceProblem

_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source"}
    | {"track", "wbr", "keygen", "command", "basefont", "frame"}
)
_URL_ATTRIBUTE = {"a": "href", "area": "href", "link": "href", "img": "src", "audio": "src", "video": "src"}
_URL_ATTRIBUTE |= {"source": "src", "iframe": "src", "embed": "src", "track": "src", "object": "data"}
_VALUE_ATTRIBUTE = {"time": "datetime", "data": "value", "meter": "value"}
_JSONLD = re.compile(r"^\s*application/ld\+json\s*(;.*)?$", re.IGNORECASE)
_NO_DATA = "no structured data: the {what} carries no schema.org JSON-LD or microdata"


@dataclass
class StructuredData:
    """What an HTML document holds: JSON-LD documents and microdata items, plus unreadable blocks."""

    documents: list[object] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def extract_structured_data(markup: str) -> StructuredData:
    """Every JSON-LD block and top-level microdata item in ``markup`` (broken HTML is fine)."""
    parser = _Extractor()
    parser.feed(markup)
    parser.close()
    data = StructuredData(errors=list(parser.errors))
    for number, block in enumerate(parser.scripts, start=1):
        document = _parse_json(block)
        if document is None:
            data.errors.append(f"JSON-LD block {number} is not valid JSON")
        else:
            data.documents.append(document)
    if parser.items:
        data.documents.append(parser.items)
    return data


def read_html(
    markup: str, *, employee_id: str, calendar_id: str = DEFAULT_CALENDAR_ID, what: str = "HTML"
) -> BookingsResult:
    """The reservations in one HTML document."""
    return _read_documents([extract_structured_data(markup)], employee_id, calendar_id, what)


def read_email(data: bytes, *, employee_id: str, calendar_id: str = DEFAULT_CALENDAR_ID) -> BookingsResult:
    """The reservations in an RFC 5322 message, its alternatives, attachments and forwarded mails."""
    message = message_from_bytes(data, policy=policy.default)
    found: list[StructuredData] = []
    for part in message.walk():
        if part.is_multipart():
            continue  # multipart/* and message/rfc822 containers: walk() visits their parts
        content_type = part.get_content_type()
        if content_type == "text/html":
            found.append(extract_structured_data(_text_of(part)))
        elif _JSONLD.match(content_type) or (part.get_filename() or "").lower().endswith(".jsonld"):
            document = _parse_json(_text_of(part))
            errors = [] if document is not None else ["a JSON-LD attachment is not valid JSON"]
            found.append(StructuredData(documents=[] if document is None else [document], errors=errors))
    return _read_documents(found, employee_id, calendar_id, "e-mail")


def _read_documents(
    found: list[StructuredData], employee_id: str, calendar_id: str, what: str
) -> BookingsResult:
    result = BookingsResult()
    errors = [error for data in found for error in data.errors]
    documents = [document for data in found for document in data.documents]
    result.problems.extend(_problem(calendar_id, error) for error in errors)
    if not documents:
        if not errors:
            result.problems.append(_problem(calendar_id, _NO_DATA.format(what=what)))
        return result
    parsed = read_reservations(documents, employee_id=employee_id, calendar_id=calendar_id)
    result.merge(parsed)
    return result


def _problem(calendar_id: str, message: str) -> SourceProblem:
    return SourceProblem(source=SourceKind.BOOKING, calendar_id=calendar_id, message=message)


def _text_of(part: Message) -> str:
    """A part's text, decoded by its charset and transfer encoding; undecodable bytes are replaced."""
    try:
        content = part.get_content()  # type: ignore[attr-defined]  # EmailMessage under policy.default
    except (LookupError, UnicodeError, ValueError):
        content = None
    if isinstance(content, str):
        return content
    payload = part.get_payload(decode=True)
    if isinstance(payload, bytes):
        return payload.decode(part.get_content_charset() or "utf-8", errors="replace")
    return ""


def _parse_json(text: str) -> object | None:
    """JSON as mails carry it: sometimes HTML-escaped or wrapped in an HTML comment."""
    cleaned = text.strip().removeprefix("<!--").removesuffix("-->").strip()
    for candidate in (cleaned, html.unescape(cleaned)):
        try:
            document: object = json.loads(candidate, strict=False)
        except ValueError:
            continue
        return document
    return None


@dataclass
class _Open:
    """An element still open while parsing: what it contributes to microdata."""

    tag: str
    props: list[str]
    item: dict[str, Any] | None
    value: str | None
    text: list[str] | None


class _Extractor(HTMLParser):
    """Collects ``application/ld+json`` scripts and microdata items from tolerant HTML parsing."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.scripts: list[str] = []
        self.items: list[dict[str, Any]] = []
        self.errors: list[str] = []
        self._stack: list[_Open] = []
        self._script: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name.lower(): value or "" for name, value in attrs}
        if tag == "script":
            is_jsonld = _JSONLD.match(attributes.get("type", ""))
            self._script = [] if is_jsonld else None
            return
        element = self._element(tag, attributes)
        if tag in _VOID:
            self._finish(element)
        elif element.props or element.item is not None or self._stack:
            self._stack.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            return
        attributes = {name.lower(): value or "" for name, value in attrs}
        self._finish(self._element(tag, attributes))

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            if self._script is not None:
                self.scripts.append("".join(self._script))
            self._script = None
            return
        depth = next((i for i in range(len(self._stack) - 1, -1, -1) if self._stack[i].tag == tag), None)
        if depth is None:
            return  # a stray end tag (common in mails): ignore it
        while len(self._stack) > depth:
            self._finish(self._stack.pop())

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            self._script.append(data)
            return
        for element in self._stack:
            if element.text is not None:
                element.text.append(data)

    def close(self) -> None:
        super().close()
        if self._script is not None:
            self.scripts.append("".join(self._script))
            self._script = None
        while self._stack:
            self._finish(self._stack.pop())

    def _element(self, tag: str, attributes: dict[str, str]) -> _Open:
        props = attributes.get("itemprop", "").split()
        item = None
        if "itemscope" in attributes:
            types = attributes.get("itemtype", "").split()
            item = {"@type": types[0].rstrip("/").rsplit("/", 1)[-1]} if types else {}
        value = None
        if props and item is None:
            attribute = "content" if "content" in attributes else _URL_ATTRIBUTE.get(tag)
            attribute = attribute or _VALUE_ATTRIBUTE.get(tag)
            if attribute and attribute in attributes:
                value = attributes[attribute].strip()
        collect = bool(props) and item is None and value is None
        return _Open(tag=tag, props=props, item=item, value=value, text=[] if collect else None)

    def _finish(self, element: _Open) -> None:
        parent = next((e.item for e in reversed(self._stack) if e.item is not None), None)
        if element.item is not None and (not element.props or parent is None):
            self.items.append(element.item)
            return
        if not element.props or parent is None:
            return
        value: object = element.item
        if value is None:
            value = (
                element.value if element.value is not None else " ".join("".join(element.text or []).split())
            )
        for name in element.props:
            if name in parent:
                existing = parent[name]
                parent[name] = [*existing, value] if isinstance(existing, list) else [existing, value]
            else:
                parent[name] = value
