"""Domain models shared by connectors, detection, rules, store and alerts.

They are the contract between the parts: a connector produces CalendarEvents and Bookings, detection
turns them into Trips, the rules turn a Trip into an Assessment, and alerts turn Assessments into
Alerts. All models reject unknown fields, validate country codes (ISO 3166-1 alpha-2) and refuse
date ranges that end before they start, so bad data is stopped where it enters, not deep in a scan.

Personal data is kept to what a decision needs: a CalendarEvent carries a title and a location for
detection but never a body or attendees, and only a short evidence summary survives on a Trip.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from chalicelib.countries import CountryCode


class Model(BaseModel):
    """Base for every domain model: strict about unknown fields, immutable once built.

    ``defer_build``: a model's validator is built on its first use, not on import, so a function's
    cold start pays only for the models its requests touch (the API imports ~100; see make bench).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class EmploymentType(StrEnum):
    EMPLOYEE = "employee"
    SELF_EMPLOYED = "self_employed"
    CIVIL_SERVANT = "civil_servant"


class Purpose(StrEnum):
    WORK = "work"
    HOLIDAY = "holiday"
    TRANSIT = "transit"
    UNKNOWN = "unknown"


class DocumentType(StrEnum):
    A1 = "A1"
    COC = "CoC"


class CertificateStatus(StrEnum):
    APPLIED = "applied"
    ISSUED = "issued"
    WITHDRAWN = "withdrawn"
    """Withdrawn by the institution, or the application refused: kept as evidence, covers nothing."""


class Status(StrEnum):
    """The answer to "does this trip need a certificate?" (the POST /v1/checks contract)."""

    CERTIFICATE_REQUIRED = "certificate_required"
    COVERED = "covered"
    NOT_REQUIRED = "not_required"
    NO_AGREEMENT = "no_agreement"
    EXCEEDS_MAXIMUM = "exceeds_maximum"
    NEEDS_REVIEW = "needs_review"


class SourceKind(StrEnum):
    ICS = "ics"
    GRAPH = "graph"
    GOOGLE = "google"
    BOOKING = "booking"


class EventKind(StrEnum):
    """What a calendar says an entry is; out-of-office entries are evidence of absence, not work."""

    EVENT = "event"
    OUT_OF_OFFICE = "out_of_office"
    WORKING_LOCATION = "working_location"


def _check_order(start: date | datetime, end: date | datetime, what: str) -> None:
    if end < start:
        raise ValueError(f"{what}: end ({end.isoformat()}) is before start ({start.isoformat()})")


class Language(StrEnum):
    """Languages the messages are written in; a traveler gets theirs, HR the employer's."""

    EN = "en"
    DE = "de"


class Employee(Model):
    id: str = Field(min_length=1, max_length=128)
    name: str = Field(min_length=1, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    home_country: CountryCode
    nationalities: tuple[CountryCode, ...] = Field(min_length=1)
    residence_country: CountryCode
    employment_type: EmploymentType = EmploymentType.EMPLOYEE
    employer_country: CountryCode | None = None
    language: Language = Language.EN


class Certificate(Model):
    id: str = Field(min_length=1, max_length=128)
    employee_id: str = Field(min_length=1, max_length=128)
    document: DocumentType
    issuing_country: CountryCode
    host_countries: tuple[CountryCode, ...] = Field(min_length=1)
    valid_from: date
    valid_to: date
    status: CertificateStatus = CertificateStatus.ISSUED
    reference: str | None = Field(default=None, max_length=128)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        _check_order(self.valid_from, self.valid_to, "certificate validity")
        return self

    def covers(self, country: str, start: date, end: date) -> bool:
        """True when this certificate names ``country`` and its validity spans the whole stay."""
        return country in self.host_countries and self.valid_from <= start and end <= self.valid_to


class CalendarEvent(Model):
    """One entry from a calendar, normalised. Times are local to the event; all-day ends are exclusive."""

    source: SourceKind
    calendar_id: str = Field(min_length=1, max_length=256)
    uid: str = Field(min_length=1, max_length=512)
    title: str = Field(default="", max_length=500)
    location: str | None = Field(default=None, max_length=500)
    country_hint: CountryCode | None = None
    start: datetime
    end: datetime
    all_day: bool = False
    kind: EventKind = EventKind.EVENT
    cancelled: bool = False
    address: str | None = Field(default=None, max_length=500)
    """A structured postal address flattened to one line (Graph ``location.address``, JSON-LD address)."""
    coordinates: tuple[float, float] | None = None
    """Latitude and longitude where the source gives them (Graph, ICS GEO, JSON-LD geo)."""
    show_as: str | None = Field(default=None, max_length=40)
    """The source's free/busy value (``oof``, ``workingElsewhere``, ``transparent`` ...)."""
    categories: tuple[str, ...] = ()
    changed: str | None = Field(default=None, max_length=200)
    """The source's change marker (ETag, lastModifiedDateTime, ``updated``, SEQUENCE)."""
    origin_country: CountryCode | None = None
    """For a travel segment (flight, train, bus): the country the traveler leaves from; ``country_hint``
    is where they arrive. ``start`` is the departure and ``end`` the arrival, each in its local zone."""

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        _check_order(self.start, self.end, f"event {self.uid}")
        return self


class BookingKind(StrEnum):
    FLIGHT = "flight"
    LODGING = "lodging"
    TRAIN = "train"
    BUS = "bus"
    RENTAL_CAR = "rental_car"
    EVENT = "event"


class Booking(Model):
    """A travel reservation segment; departure and arrival are where the traveler leaves and arrives."""

    id: str = Field(min_length=1, max_length=256)
    employee_id: str = Field(min_length=1, max_length=128)
    kind: BookingKind
    start: datetime
    end: datetime
    departure_country: CountryCode | None = None
    arrival_country: CountryCode
    place: str | None = Field(default=None, max_length=300)
    cancelled: bool = False

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        _check_order(self.start, self.end, f"booking {self.id}")
        return self


class Evidence(Model):
    """Why we believe a trip happens: which source entry, which rule, which place matched."""

    source: SourceKind
    uid: str
    summary: str = Field(max_length=200)
    place: str | None = None
    rule: str
    day: date


class Trip(Model):
    """A stay in one host country. A journey through several countries is several Trips."""

    id: str = Field(min_length=1, max_length=128)
    employee_id: str = Field(min_length=1, max_length=128)
    country: CountryCode
    start: date
    end: date
    purpose: Purpose = Purpose.UNKNOWN
    confidence: float = Field(ge=0.0, le=1.0)
    evidence: tuple[Evidence, ...] = ()
    cancelled: bool = False
    confirm: bool = False
    """The evidence is mixed (e.g. holiday and work days): the traveler is asked to confirm the purpose."""

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        _check_order(self.start, self.end, f"trip {self.id}")
        return self

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


class Instrument(Model):
    """The legal instrument behind a decision, with what a reader needs to check it."""

    id: str
    title: str
    article: str
    in_force_since: date
    source: str


class Period(Model):
    """An inclusive run of days, e.g. the part of a trip no recorded certificate covers."""

    start: date
    end: date

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        _check_order(self.start, self.end, "period")
        return self

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


class CompetentAuthority(Model):
    """Where the employer applies for the document: the home institution, how, and the source."""

    name: str
    how: str
    source: str


class Assessment(Model):
    """The coverage decision for one trip (or one /v1/checks question) and why."""

    status: Status
    document: DocumentType | None = None
    instrument: Instrument | None = None
    max_months: int | None = None
    exceeds_max: bool = False
    apply_by: date | None = None
    explanation: str
    checklist: tuple[str, ...] = ()
    rule_ids: tuple[str, ...] = ()
    certificate_id: str | None = None
    decided_on: date
    authority: CompetentAuthority | None = None
    """The home institution to apply to; null when no document is needed or the home is not in the data."""
    document_name: str | None = None
    """The document's name as the home state issues it, e.g. "Entsendebescheinigung (Vordruck D/US 101)"."""
    branches: tuple[str, ...] = ()
    """The branches of social security the instrument keeps at home (the rest may be due in the host)."""
    uncovered: tuple[Period, ...] = ()
    """The days of the trip no recorded certificate covers, when a document is needed."""

    @property
    def lacks_certificate(self) -> bool:
        """A document is needed and none has been issued: HR must act."""
        return self.status in (Status.CERTIFICATE_REQUIRED, Status.EXCEEDS_MAXIMUM)


class MultiStateSuggestion(Model):
    """A hint that one A1 for work in several states (Art. 13) fits better than one A1 per trip."""

    rule_ids: tuple[str, ...]
    document: DocumentType
    instrument: Instrument
    states: tuple[CountryCode, ...]
    """The EU/EEA/Swiss states other than home where the employee works, in first-visit order."""
    trips: int
    """How many work trips to those states fall in the window."""
    window_start: date
    window_end: date
    apply_in: CountryCode
    """The state of residence, whose institution decides on the legislation (Art. 16 Reg. 987/2009)."""
    authority: CompetentAuthority | None = None
    explanation: str
    checklist: tuple[str, ...] = ()
    decided_on: date


class AlertKind(StrEnum):
    MISSING_CERTIFICATE = "missing_certificate"
    TRAVELER_CHECKLIST = "traveler_checklist"
    RESOLVED = "resolved"
    DIGEST = "digest"
    REMINDER = "reminder"
    ESCALATION = "escalation"


HR_KINDS = frozenset(
    {
        AlertKind.MISSING_CERTIFICATE,
        AlertKind.RESOLVED,
        AlertKind.DIGEST,
        AlertKind.REMINDER,
        AlertKind.ESCALATION,
    }
)
"""Messages for HR (which may also go to HR's chat channel); the checklist goes to the traveler only."""


class Attachment(Model):
    filename: str = Field(min_length=1, max_length=200)
    content_type: str = Field(pattern=r"^[a-z]+/[a-z0-9.+-]+$")
    text: str


class Alert(Model):
    """One message to one person about one trip; ``key`` makes sending it idempotent."""

    key: str = Field(min_length=1, max_length=256)
    kind: AlertKind
    employee_id: str
    trip_id: str
    recipient: str
    subject: str
    text: str
    html: str
    attachments: tuple[Attachment, ...] = ()


class FailedMessage(Model):
    """A message that could not be delivered after its retries; the digest lists it so HR can act."""

    key: str
    kind: AlertKind
    employee_id: str
    recipient: str
    subject: str
    channel: str
    attempts: int
    last_error: str
    claimed_on: date


class Connection(Model):
    """One calendar or feed coverwatch reads for one employee."""

    id: str = Field(min_length=1, max_length=256, pattern=r"^[A-Za-z0-9_.:@#/+=-]+$")
    employee_id: str = Field(min_length=1, max_length=128)
    source: SourceKind
    account: str = Field(min_length=1, max_length=2048)
    """Mailbox id or UPN (Graph), user e-mail (Google), feed URL or file path (ICS)."""
    calendar_id: str = Field(default="primary", min_length=1, max_length=256)


class Channel(Model):
    """A push subscription: a Graph subscription or a Google watch channel, tied to one connection.

    The shared secret (Graph ``clientState``, Google channel token) is kept only as a SHA-256 digest:
    enough to check a notification, useless to someone who reads the table.
    """

    id: str = Field(min_length=1, max_length=256)
    source: SourceKind
    connection_id: str = Field(min_length=1, max_length=256)
    secret_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    expires_at: datetime
    resource_id: str | None = Field(default=None, max_length=512)
    """Google's ``resourceId`` (needed to stop a channel); None for Graph."""


class SyncState(Model):
    """Where the last read of one calendar connection stopped (delta link, sync token, ETag)."""

    connection_id: str = Field(min_length=1, max_length=256)
    source: SourceKind
    cursor: str | None = None
    window_start: date | None = None
    window_end: date | None = None
    synced_at: datetime | None = None
    version: int = Field(default=0, ge=0)


class SourceProblem(Model):
    """Something in a source that could not be read; reported, skipped, never fatal to a scan."""

    source: SourceKind
    calendar_id: str
    uid: str | None = None
    line: int | None = None
    message: str
