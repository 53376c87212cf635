"""Repository over the single DynamoDB table; the only module that speaks the DynamoDB API.

Writes are idempotent so that a retried or replayed scan changes nothing:
- trips are upserted with a content hash: the update is conditional on the hash having changed, and a
  version number counts real changes (a replay leaves version and data untouched);
- alerts are claimed with a create-once put before the e-mail goes out, so an alert key is sent once;
- sync state is written with optimistic locking on its version.
Models are stored as JSON documents beside the few attributes the key design needs.
"""

from __future__ import annotations

import hashlib
import json
import math
import uuid
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol, Self

from pydantic import Field, model_validator

from chalicelib.api.records import ApiKey, AuditEntry
from chalicelib.models import (
    Alert,
    Assessment,
    CalendarEvent,
    Certificate,
    Channel,
    Connection,
    DocumentType,
    Employee,
    FailedMessage,
    Model,
    Purpose,
    Status,
    SyncState,
    Trip,
)
from chalicelib.store import retention
from chalicelib.store.schema import (
    ALL_CHANNELS,
    ALL_CONNECTIONS,
    API_KEYS_PK,
    AUDIT_PREFIX,
    GSI_OPEN_CASES,
    GSI_TRIPS_BY_MONTH,
    OPEN_CASES_PK,
    OUTBOX_PK,
    TRIP_OWNER_PREFIX,
    TRIPS_MONTH_PREFIX,
    TTL_ATTRIBUTE,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class WriteOutcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class StoredTrip:
    trip: Trip
    assessment: Assessment
    version: int
    first_seen: date | None = None
    """The decision date on which coverwatch first stored the trip (for "new since yesterday")."""


class TripVersion(Model):
    """One stored version of a trip's decision, for its assessment history.

    Decision fields and the trip's dates only: the evidence (event titles) stays on the trip itself,
    so the history keeps no second copy of calendar text.
    """

    version: int = Field(ge=1)
    status: Status
    document: DocumentType | None = None
    rule_ids: tuple[str, ...] = ()
    instrument_id: str | None = None
    certificate_id: str | None = None
    apply_by: date | None = None
    decided_on: date
    country: str
    start: date
    end: date
    purpose: Purpose
    cancelled: bool = False

    @classmethod
    def of(cls, trip: Trip, assessment: Assessment, version: int) -> TripVersion:
        return cls(
            version=version,
            status=assessment.status,
            document=assessment.document,
            rule_ids=assessment.rule_ids,
            instrument_id=assessment.instrument.id if assessment.instrument else None,
            certificate_id=assessment.certificate_id,
            apply_by=assessment.apply_by,
            decided_on=assessment.decided_on,
            country=trip.country,
            start=trip.start,
            end=trip.end,
            purpose=trip.purpose,
            cancelled=trip.cancelled,
        )


class TripOverride(Model):
    """HR's word on one trip (``PATCH /v1/trips/{id}``); it outranks the calendar and the traveler.

    Kept apart from the trip, because every calendar sync rebuilds the trip from the events: the scan
    applies the override again each time, so HR's decision survives the calendar changing.
    """

    employee_id: str = Field(min_length=1, max_length=128)
    trip_id: str = Field(min_length=1, max_length=128)
    purpose: Purpose | None = None
    start: date | None = None
    end: date | None = None
    """Corrected dates replace the detected ones; both or neither."""
    dismissed: bool = False
    """Not a trip at all (the meeting was virtual, the place was wrong): no certificate, no case."""
    reason: str | None = Field(default=None, min_length=1, max_length=500)
    note: str | None = Field(default=None, max_length=2000)
    by: str = Field(min_length=1, max_length=300)
    """Who decided: the caller's id (``key:<id>``, ``iam:<arn>``), never a name."""
    at: datetime
    revision: int = Field(default=0, ge=0)
    """Counts stored changes; each write is conditional on it, so two editors cannot overwrite each other."""

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if (self.start is None) != (self.end is None):
            raise ValueError("corrected dates need both start and end")
        if self.start is not None and self.end is not None and self.end < self.start:
            raise ValueError(f"end ({self.end}) is before start ({self.start})")
        if self.purpose is Purpose.UNKNOWN:
            raise ValueError("HR sets a purpose of work, holiday or transit")
        if self.dismissed and not self.reason:
            raise ValueError("a dismissal needs a reason")
        return self


DISMISSED_RULE = "override.dismissed"
"""Rule id of the decision on a trip HR dismissed as not a trip (see chalicelib/scan.py)."""


def is_dismissed(stored: StoredTrip) -> bool:
    """Cancelled because HR said it is not a trip (not because it left the calendar)."""
    return stored.trip.cancelled and DISMISSED_RULE in stored.assessment.rule_ids


@dataclass(frozen=True)
class TripPage:
    trips: list[StoredTrip]
    resume: dict[str, Any] | None
    """Where the next page starts (JSON-safe, for the caller to wrap in a cursor); None at the end."""


class StaleTripError(Exception):
    """The trip (its version) or HR's override of it changed since the caller read them."""


class BadResumeError(ValueError):
    """A resume point this listing did not hand out (altered, or from another date range)."""


@dataclass(frozen=True)
class OutboxEntry:
    """A claimed message not yet delivered everywhere: what to send and to which channels."""

    alert: Alert
    pending: tuple[str, ...]
    attempts: int
    claimed_on: date


class StaleSyncStateError(Exception):
    """Someone else saved this calendar's sync state first; re-read it and try again."""


@dataclass(frozen=True)
class SyncFailure:
    """The last time a connection's calendar could not be read, and why (the connector's reason)."""

    connection_id: str
    at: datetime
    reason: str
    permanent: bool
    retry_after: float | None = None


class Repository(Protocol):
    def put_employee(self, employee: Employee) -> None: ...
    def get_employee(self, employee_id: str) -> Employee | None: ...
    def put_certificate(self, certificate: Certificate) -> None: ...
    def certificates_of(self, employee_id: str) -> list[Certificate]: ...
    def add_certificate(self, certificate: Certificate) -> bool: ...
    def get_certificate(self, employee_id: str, certificate_id: str) -> Certificate | None: ...
    def delete_certificate(self, employee_id: str, certificate_id: str) -> bool: ...
    def get_employees(self, employee_ids: Sequence[str]) -> dict[str, Employee]: ...
    def put_employees(self, employees: Sequence[Employee]) -> None: ...
    def erase_employee(self, employee_id: str) -> int: ...
    def delete_connection(self, connection_id: str) -> Connection | None: ...
    def channels_of(self, connection_id: str) -> list[Channel]: ...
    def record_sync_failure(self, failure: SyncFailure) -> bool: ...
    def last_sync_failure(self, connection_id: str) -> SyncFailure | None: ...
    def save_trip(self, trip: Trip, assessment: Assessment) -> WriteOutcome: ...
    def trips_of(self, employee_id: str) -> list[StoredTrip]: ...
    def trips_lacking_certificate(self, first_start: date, last_start: date) -> list[StoredTrip]: ...
    def get_trip(self, trip_id: str) -> StoredTrip | None: ...
    def trip_history(self, employee_id: str, trip_id: str) -> list[TripVersion]: ...
    def trip_override(self, employee_id: str, trip_id: str) -> TripOverride | None: ...
    def trip_overrides(self, employee_id: str) -> dict[str, TripOverride]: ...
    def put_trip_override(
        self, override: TripOverride, *, trip_version: int, trip_end: date
    ) -> TripOverride: ...
    def trips_starting(
        self,
        first_start: date,
        last_start: date,
        *,
        limit: int,
        resume: Mapping[str, Any] | None = None,
        employee_id: str | None = None,
        keep: Callable[[StoredTrip], bool] | None = None,
    ) -> TripPage: ...
    def get_sync_state(self, connection_id: str) -> SyncState | None: ...
    def save_sync_state(self, state: SyncState) -> SyncState: ...
    def claim_alert(
        self, alert: Alert, channels: Sequence[str], now: datetime, lease_until: datetime
    ) -> OutboxEntry | None: ...
    def alert_state(self, employee_id: str, key: str) -> str | None: ...
    def take_over_alert(
        self, employee_id: str, key: str, now: datetime, lease_until: datetime
    ) -> OutboxEntry | None: ...
    def confirm_delivery(self, employee_id: str, key: str, channel: str, message_id: str) -> bool: ...
    def record_failure(
        self, entry: OutboxEntry, channel: str, error: str, now: datetime, retry_at: datetime | None
    ) -> None: ...
    def due_outbox(self, now: datetime) -> list[tuple[str, str]]: ...
    def failed_messages(self) -> list[FailedMessage]: ...
    def retry_failed(self, employee_id: str, key: str, now: datetime) -> bool: ...
    def put_api_key(self, key: ApiKey) -> None: ...
    def get_api_key(self, key_id: str) -> ApiKey | None: ...
    def api_keys(self) -> list[ApiKey]: ...
    def append_audit(self, entry: AuditEntry) -> None: ...
    def audit_of_day(
        self, day: date, limit: int, after: str | None = None
    ) -> tuple[list[AuditEntry], str | None]: ...
    def put_trip_answer(self, employee_id: str, trip_id: str, purpose: Purpose, trip_end: date) -> None: ...
    def trip_answers(self, employee_id: str) -> dict[str, Purpose]: ...
    def put_connection(self, connection: Connection) -> None: ...
    def get_connection(self, connection_id: str) -> Connection | None: ...
    def connections_of(self, employee_id: str) -> list[Connection]: ...
    def all_connections(self) -> list[Connection]: ...
    def put_channel(self, channel: Channel) -> None: ...
    def get_channel(self, channel_id: str) -> Channel | None: ...
    def delete_channel(self, channel_id: str) -> None: ...
    def channels_expiring_before(self, moment: datetime) -> list[Channel]: ...
    def events_of(self, connection_id: str) -> list[CalendarEvent]: ...
    def apply_event_changes(
        self, connection_id: str, changed: list[CalendarEvent], removed: list[str], *, replace_all: bool
    ) -> int: ...
    def alert_was_sent(self, employee_id: str, key_prefix: str) -> bool: ...
    def take_lease(
        self, connection_id: str, owner: str, now: datetime, until: datetime
    ) -> datetime | None: ...
    def release_lease(self, connection_id: str, owner: str) -> None: ...
    def provider_backoff(self, provider: str) -> datetime | None: ...
    def extend_provider_backoff(self, provider: str, until: datetime) -> None: ...


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def _n(value: int) -> dict[str, str]:
    return {"N": str(value)}


def _emp(employee_id: str) -> dict[str, Any]:
    return _s(f"EMP#{employee_id}")


def _trip_hash(trip: Trip, assessment: Assessment) -> str:
    # The decision date alone does not make a trip different: re-deciding it tomorrow with the same
    # answer must not count as a change.
    doc = {"trip": trip.model_dump(mode="json"), "assessment": assessment.model_dump(mode="json")}
    doc["assessment"].pop("decided_on")
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()


class DynamoRepository:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._db = client
        self._table = table_name

    # employees and certificates -------------------------------------------------------------
    def put_employee(self, employee: Employee) -> None:
        self._db.put_item(
            TableName=self._table,
            Item={"PK": _emp(employee.id), "SK": _s("PROFILE"), "data": _s(employee.model_dump_json())},
        )

    def get_employee(self, employee_id: str) -> Employee | None:
        item = self._db.get_item(
            TableName=self._table, Key={"PK": _emp(employee_id), "SK": _s("PROFILE")}, ConsistentRead=True
        ).get("Item")
        return Employee.model_validate_json(item["data"]["S"]) if item else None

    def put_certificate(self, certificate: Certificate) -> None:
        self._db.put_item(
            TableName=self._table,
            Item={
                "PK": _emp(certificate.employee_id),
                "SK": _s(f"CERT#{certificate.id}"),
                "data": _s(certificate.model_dump_json()),
                TTL_ATTRIBUTE: _n(retention.certificate_expires_at(certificate.valid_to)),
            },
        )

    def certificates_of(self, employee_id: str) -> list[Certificate]:
        return [
            Certificate.model_validate_json(i["data"]["S"]) for i in self._query_prefix(employee_id, "CERT#")
        ]

    # trips ------------------------------------------------------------------------------------
    def save_trip(self, trip: Trip, assessment: Assessment) -> WriteOutcome:
        content_hash = _trip_hash(trip, assessment)
        open_case = assessment.lacks_certificate and not trip.cancelled
        values: dict[str, Any] = {
            ":data": _s(
                json.dumps(
                    {"trip": trip.model_dump(mode="json"), "assessment": assessment.model_dump(mode="json")}
                )
            ),
            ":hash": _s(content_hash),
            ":start": _s(trip.start.isoformat()),
            ":status": _s(assessment.status.value),
            ":ttl": _n(retention.trip_expires_at(trip.end)),
            ":seen": _s(assessment.decided_on.isoformat()),
            ":zero": _n(0),
            ":one": _n(1),
            ":g2pk": _s(_trips_month(trip.start)),
            ":g2sk": _s(f"{trip.start.isoformat()}#{trip.employee_id}#{trip.id}"),
        }
        sets = [
            "#data = :data",
            "content_hash = :hash",
            "trip_start = :start",
            "#status = :status",
            f"{TTL_ATTRIBUTE} = :ttl",
            "version = if_not_exists(version, :zero) + :one",
            "first_seen = if_not_exists(first_seen, :seen)",
            "GSI2PK = :g2pk",
            "GSI2SK = :g2sk",
        ]
        if open_case:
            values[":gpk"] = _s(OPEN_CASES_PK)
            values[":gsk"] = _s(f"{trip.start.isoformat()}#{trip.employee_id}#{trip.id}")
            expression = "SET " + ", ".join([*sets, "GSI1PK = :gpk", "GSI1SK = :gsk"])
        else:
            expression = "SET " + ", ".join(sets) + " REMOVE GSI1PK, GSI1SK"
        try:
            result = self._db.update_item(
                TableName=self._table,
                Key={"PK": _emp(trip.employee_id), "SK": _s(f"TRIP#{trip.id}")},
                UpdateExpression=expression,
                ConditionExpression="attribute_not_exists(PK) OR content_hash <> :hash",
                ExpressionAttributeNames={"#data": "data", "#status": "status"},
                ExpressionAttributeValues=values,
                ReturnValues="UPDATED_NEW",
            )
        except self._db.exceptions.ConditionalCheckFailedException:
            return WriteOutcome.UNCHANGED
        version = int(result["Attributes"]["version"]["N"])
        self._record_trip_version(trip, assessment, version)
        return WriteOutcome.CREATED if version == 1 else WriteOutcome.UPDATED

    def trips_of(self, employee_id: str) -> list[StoredTrip]:
        return sorted(
            (_stored_trip(i) for i in self._query_prefix(employee_id, "TRIP#")),
            key=lambda s: (s.trip.start, s.trip.country),
        )

    def trips_lacking_certificate(self, first_start: date, last_start: date) -> list[StoredTrip]:
        """Open cases whose trip starts in [first_start, last_start]; the index is eventually consistent."""
        items = self._paged_query(
            IndexName=GSI_OPEN_CASES,
            KeyConditionExpression="GSI1PK = :p AND GSI1SK BETWEEN :a AND :b",
            ExpressionAttributeValues={
                ":p": _s(OPEN_CASES_PK),
                ":a": _s(first_start.isoformat()),
                ":b": _s(last_start.isoformat() + "#\uffff"),
            },
        )
        return [_stored_trip(i) for i in items]

    # trips: history, overrides, listing ----------------------------------------------------------
    def _record_trip_version(self, trip: Trip, assessment: Assessment, version: int) -> None:
        """Keep the version for the trip's history and (re)point its id at its employee.

        Written after the trip itself, not in one transaction with it (the trip's conditional update
        must tell us the version first): a crash in between loses that version's history line, never
        the trip. The owner pointer is rewritten on every version so its TTL follows the trip's end.
        """
        ttl = _n(retention.trip_expires_at(trip.end))
        history = TripVersion.of(trip, assessment, version)
        self._db.put_item(
            TableName=self._table,
            Item={
                "PK": _emp(trip.employee_id),
                "SK": _s(f"TRIPHIST#{trip.id}#{version:06d}"),
                "data": _s(history.model_dump_json()),
                TTL_ATTRIBUTE: ttl,
            },
        )
        self._db.put_item(
            TableName=self._table,
            Item={
                "PK": _s(f"{TRIP_OWNER_PREFIX}{trip.id}"),
                "SK": _s("OWNER"),
                "employee_id": _s(trip.employee_id),
                TTL_ATTRIBUTE: ttl,
            },
        )

    def get_trip(self, trip_id: str) -> StoredTrip | None:
        """A trip by its id alone (the id is a hash, so its employee comes from the owner pointer)."""
        owner = self._db.get_item(
            TableName=self._table,
            Key={"PK": _s(f"{TRIP_OWNER_PREFIX}{trip_id}"), "SK": _s("OWNER")},
            ConsistentRead=True,
        ).get("Item")
        if owner is None:
            return None
        item = self._db.get_item(
            TableName=self._table,
            Key={"PK": _emp(owner["employee_id"]["S"]), "SK": _s(f"TRIP#{trip_id}")},
            ConsistentRead=True,
        ).get("Item")
        return _stored_trip(item) if item else None

    def trip_history(self, employee_id: str, trip_id: str) -> list[TripVersion]:
        """Every stored version of the trip's decision, oldest first."""
        items = self._query_prefix(employee_id, f"TRIPHIST#{trip_id}#")
        return [TripVersion.model_validate_json(i["data"]["S"]) for i in items]

    def trip_override(self, employee_id: str, trip_id: str) -> TripOverride | None:
        item = self._db.get_item(
            TableName=self._table,
            Key={"PK": _emp(employee_id), "SK": _s(f"OVERRIDE#{trip_id}")},
            ConsistentRead=True,
        ).get("Item")
        return TripOverride.model_validate_json(item["data"]["S"]) if item else None

    def trip_overrides(self, employee_id: str) -> dict[str, TripOverride]:
        items = self._query_prefix(employee_id, "OVERRIDE#")
        overrides = (TripOverride.model_validate_json(i["data"]["S"]) for i in items)
        return {o.trip_id: o for o in overrides}

    def put_trip_override(self, override: TripOverride, *, trip_version: int, trip_end: date) -> TripOverride:
        """Store HR's override if the trip is still at ``trip_version`` and nobody changed the override
        since it was read (its revision); raises StaleTripError otherwise. Returns it at its new revision.

        Both conditions are checked in one transaction, so two HR editors with the same ETag cannot
        both win: the second gets StaleTripError (412) instead of silently overwriting the first.
        """
        stored = override.model_copy(update={"revision": override.revision + 1})
        put: dict[str, Any] = {
            "TableName": self._table,
            "Item": {
                "PK": _emp(override.employee_id),
                "SK": _s(f"OVERRIDE#{override.trip_id}"),
                "data": _s(stored.model_dump_json()),
                "revision": _n(stored.revision),
                TTL_ATTRIBUTE: _n(retention.trip_expires_at(max(trip_end, override.end or trip_end))),
            },
            "ConditionExpression": "attribute_not_exists(PK)",
        }
        if override.revision:
            put["ConditionExpression"] = "revision = :r"
            put["ExpressionAttributeValues"] = {":r": _n(override.revision)}
        check: dict[str, Any] = {
            "TableName": self._table,
            "Key": {"PK": _emp(override.employee_id), "SK": _s(f"TRIP#{override.trip_id}")},
            "ConditionExpression": "version = :v",
            "ExpressionAttributeValues": {":v": _n(trip_version)},
        }
        try:
            items: list[Any] = [{"ConditionCheck": check}, {"Put": put}]  # typed dicts, built plainly
            self._db.transact_write_items(TransactItems=items)
        except self._db.exceptions.TransactionCanceledException as exc:
            raise StaleTripError(override.trip_id) from exc
        return stored

    def trips_starting(
        self,
        first_start: date,
        last_start: date,
        *,
        limit: int,
        resume: Mapping[str, Any] | None = None,
        employee_id: str | None = None,
        keep: Callable[[StoredTrip], bool] | None = None,
    ) -> TripPage:
        """Up to ``limit`` trips starting in [first_start, last_start] that ``keep`` accepts, in start order.

        Cost, honestly: without ``employee_id`` this walks GSI2 one month partition at a time and
        ``keep`` filters what was read, so DynamoDB bills every trip starting in the range that the page
        had to look at, kept or not (a FilterExpression would only save bytes on the wire, not reads).
        A selective filter over a long range therefore reads much more than it returns; each call stops
        after ``LIST_READ_BUDGET`` items or ``LIST_QUERY_BUDGET`` queries and hands back a resume point,
        so a page can hold fewer than ``limit`` trips (even none) and still not be the last. With
        ``employee_id`` it reads that employee's partition instead (strongly consistent, a few items).
        GSI2 is eventually consistent: a trip saved a moment ago may be missing from the listing.
        """
        accept = keep or _keep_all
        if employee_id is not None:
            return self._employee_trips_starting(
                employee_id, (first_start, last_start), limit=limit, resume=resume, accept=accept
            )
        months = _months_between(first_start, last_start)
        index, after = _gsi_resume(resume, months, first_start, last_start)
        found: list[StoredTrip] = []
        read = queries = 0
        while index < len(months):
            wanted = limit - len(found)
            page_size = wanted if keep is None else min(max(wanted, 100), LIST_READ_BUDGET - read)
            kwargs: dict[str, Any] = {
                "TableName": self._table,
                "IndexName": GSI_TRIPS_BY_MONTH,
                "KeyConditionExpression": "GSI2PK = :p AND GSI2SK BETWEEN :a AND :b",
                "ExpressionAttributeValues": {
                    ":p": _s(TRIPS_MONTH_PREFIX + months[index]),
                    ":a": _s(first_start.isoformat()),
                    ":b": _s(last_start.isoformat() + "#\uffff"),
                },
                "Limit": max(page_size, 1),
            }
            if after is not None:
                kwargs["ExclusiveStartKey"] = after
            page = self._db.query(**kwargs)
            queries += 1
            for item in page.get("Items", []):
                read += 1
                stored = _stored_trip(item)
                if accept(stored):
                    found.append(stored)
                    if len(found) == limit:
                        return TripPage(found, {"month": months[index], "key": _plain_gsi2_key(item)})
            after = page.get("LastEvaluatedKey")
            if after is None:
                index += 1
            if index < len(months) and (read >= LIST_READ_BUDGET or queries >= LIST_QUERY_BUDGET):
                key = _plain_gsi2_key(after) if after is not None else None
                return TripPage(found, {"month": months[index], "key": key})
        return TripPage(found, None)

    def _employee_trips_starting(
        self,
        employee_id: str,
        starts: tuple[date, date],
        *,
        limit: int,
        resume: Mapping[str, Any] | None,
        accept: Callable[[StoredTrip], bool],
    ) -> TripPage:
        first_start, last_start = starts
        after = _employee_resume(resume)
        trips = sorted(
            (
                s
                for s in (_stored_trip(i) for i in self._query_prefix(employee_id, "TRIP#"))
                if first_start <= s.trip.start <= last_start and accept(s)
            ),
            key=_employee_sort_key,
        )
        if after is not None:
            trips = [s for s in trips if _employee_sort_key(s) > after]
        if len(trips) <= limit:
            return TripPage(trips, None)
        return TripPage(trips[:limit], {"after": _employee_sort_key(trips[limit - 1])})

    # sync state -----------------------------------------------------------------------------
    def get_sync_state(self, connection_id: str) -> SyncState | None:
        item = self._db.get_item(
            TableName=self._table,
            Key={"PK": _s(f"SYNC#{connection_id}"), "SK": _s("STATE")},
            ConsistentRead=True,
        ).get("Item")
        return SyncState.model_validate_json(item["data"]["S"]) if item else None

    def save_sync_state(self, state: SyncState) -> SyncState:
        """Save ``state`` if nobody saved since it was read (its version); returns it with version + 1."""
        new = state.model_copy(update={"version": state.version + 1})
        synced_on = new.synced_at.date() if new.synced_at else date(1970, 1, 1)
        try:
            self._db.put_item(
                TableName=self._table,
                Item={
                    "PK": _s(f"SYNC#{state.connection_id}"),
                    "SK": _s("STATE"),
                    "data": _s(new.model_dump_json()),
                    "version": _n(new.version),
                    TTL_ATTRIBUTE: _n(retention.sync_state_expires_at(synced_on)),
                },
                ConditionExpression="attribute_not_exists(PK) OR version = :v",
                ExpressionAttributeValues={":v": _n(state.version)},
            )
        except self._db.exceptions.ConditionalCheckFailedException as exc:
            raise StaleSyncStateError(state.connection_id) from exc
        return new

    # directory: certificates, erasure, connections --------------------------------------------------
    def add_certificate(self, certificate: Certificate) -> bool:
        """Record a new certificate; False (nothing written) when the employee has one with its id."""
        try:
            self._db.put_item(
                TableName=self._table,
                Item={
                    "PK": _emp(certificate.employee_id),
                    "SK": _s(f"CERT#{certificate.id}"),
                    "data": _s(certificate.model_dump_json()),
                    TTL_ATTRIBUTE: _n(retention.certificate_expires_at(certificate.valid_to)),
                },
                ConditionExpression="attribute_not_exists(PK)",
            )
        except self._db.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def get_certificate(self, employee_id: str, certificate_id: str) -> Certificate | None:
        item = self._db.get_item(
            TableName=self._table,
            Key={"PK": _emp(employee_id), "SK": _s(f"CERT#{certificate_id}")},
            ConsistentRead=True,
        ).get("Item")
        return Certificate.model_validate_json(item["data"]["S"]) if item else None

    def delete_certificate(self, employee_id: str, certificate_id: str) -> bool:
        """Forget a certificate; False when there was none."""
        old = self._db.delete_item(
            TableName=self._table,
            Key={"PK": _emp(employee_id), "SK": _s(f"CERT#{certificate_id}")},
            ReturnValues="ALL_OLD",
        ).get("Attributes")
        return bool(old)

    def get_employees(self, employee_ids: Sequence[str]) -> dict[str, Employee]:
        """The stored profiles of ``employee_ids`` (unknown ids are absent), 100 per request."""
        found: dict[str, Employee] = {}
        wanted = sorted(set(employee_ids))
        for start in range(0, len(wanted), 100):
            keys = [{"PK": _emp(i), "SK": _s("PROFILE")} for i in wanted[start : start + 100]]
            request: dict[str, Any] = {self._table: {"Keys": keys, "ConsistentRead": True}}
            for _ in range(_BATCH_ATTEMPTS):
                answer = self._db.batch_get_item(RequestItems=request)
                for item in answer.get("Responses", {}).get(self._table, []):
                    employee = Employee.model_validate_json(item["data"]["S"])
                    found[employee.id] = employee
                request = dict(answer.get("UnprocessedKeys") or {})
                if not request:
                    break
            else:
                raise RuntimeError("DynamoDB kept some profiles unprocessed; try again")
        return found

    def put_employees(self, employees: Sequence[Employee]) -> None:
        """Store many profiles (an HR import), 25 per request."""
        items = [{"PK": _emp(e.id), "SK": _s("PROFILE"), "data": _s(e.model_dump_json())} for e in employees]
        self._batch_write([{"PutRequest": {"Item": item}} for item in items])

    def erase_employee(self, employee_id: str) -> int:
        """Delete every item in the employee's partition, and the trip-id pointers outside it.

        The profile goes last, so an erasure that stops half way leaves the employee findable and can
        be run again. Connections (whose events live in their own partitions) are the caller's to remove
        first. Returns how many items were deleted.
        """
        items = self._paged_query(
            KeyConditionExpression="PK = :pk",
            ExpressionAttributeValues={":pk": _emp(employee_id)},
            ProjectionExpression="#pk, #sk",
            ExpressionAttributeNames={"#pk": "PK", "#sk": "SK"},
            ConsistentRead=True,
        )
        sort_keys = [i["SK"]["S"] for i in items]
        trip_ids = sorted({t for t in (_trip_id_in(sk) for sk in sort_keys) if t})
        keys = [{"PK": _s(f"{TRIP_OWNER_PREFIX}{t}"), "SK": _s("OWNER")} for t in trip_ids]
        keys += [{"PK": _emp(employee_id), "SK": _s(sk)} for sk in sort_keys if sk != "PROFILE"]
        self._batch_write([{"DeleteRequest": {"Key": key}} for key in keys])
        if "PROFILE" in sort_keys:
            self._db.delete_item(TableName=self._table, Key={"PK": _emp(employee_id), "SK": _s("PROFILE")})
        return len(items)

    def delete_connection(self, connection_id: str) -> Connection | None:
        """Delete a connection, its copies, its sync state and last failure, and its stored events."""
        connection = self.get_connection(connection_id)
        keys: list[dict[str, Any]] = []
        for pk in (f"CONN#{connection_id}", f"SYNC#{connection_id}"):
            items = self._paged_query(
                KeyConditionExpression="PK = :pk",
                ExpressionAttributeValues={":pk": _s(pk)},
                ProjectionExpression="#pk, #sk",
                ExpressionAttributeNames={"#pk": "PK", "#sk": "SK"},
                ConsistentRead=True,
            )
            keys += [{"PK": i["PK"], "SK": i["SK"]} for i in items]
        copy = _s(f"CONN#{connection_id}")
        keys.append({"PK": _s(ALL_CONNECTIONS), "SK": copy})
        if connection is not None:
            keys.append({"PK": _emp(connection.employee_id), "SK": copy})
        self._batch_write([{"DeleteRequest": {"Key": key}} for key in keys])
        return connection

    def channels_of(self, connection_id: str) -> list[Channel]:
        """The push channels of one connection (read from the expiry index: one partition, all channels)."""
        items = self._paged_query(
            KeyConditionExpression="PK = :pk", ExpressionAttributeValues={":pk": _s(ALL_CHANNELS)}
        )
        channels = (Channel.model_validate_json(i["data"]["S"]) for i in items)
        return [c for c in channels if c.connection_id == connection_id]

    def record_sync_failure(self, failure: SyncFailure) -> bool:
        """Keep the connection's latest read failure; False (nothing written) when the connection is gone."""
        doc = {
            "at": _utc_iso(failure.at),
            "reason": failure.reason[:500],
            "permanent": failure.permanent,
            "retry_after": failure.retry_after,
        }
        put = {
            "TableName": self._table,
            "Item": {
                "PK": _s(f"SYNC#{failure.connection_id}"),
                "SK": _s("ERROR"),
                "data": _s(json.dumps(doc)),
                TTL_ATTRIBUTE: _n(retention.sync_state_expires_at(failure.at.date())),
            },
        }
        exists = {
            "TableName": self._table,
            "Key": {"PK": _s(f"CONN#{failure.connection_id}"), "SK": _s("CONNECTION")},
            "ConditionExpression": "attribute_exists(PK)",
        }
        try:
            items: list[Any] = [{"ConditionCheck": exists}, {"Put": put}]  # typed dicts, built plainly
            self._db.transact_write_items(TransactItems=items)
        except self._db.exceptions.TransactionCanceledException:
            return False
        return True

    def last_sync_failure(self, connection_id: str) -> SyncFailure | None:
        item = self._db.get_item(
            TableName=self._table,
            Key={"PK": _s(f"SYNC#{connection_id}"), "SK": _s("ERROR")},
            ConsistentRead=True,
        ).get("Item")
        if item is None:
            return None
        doc = json.loads(item["data"]["S"])
        return SyncFailure(
            connection_id=connection_id,
            at=datetime.fromisoformat(doc["at"].replace("Z", "+00:00")),
            reason=doc["reason"],
            permanent=bool(doc["permanent"]),
            retry_after=doc.get("retry_after"),
        )

    def _batch_write(self, requests: list[dict[str, Any]]) -> None:
        """Run put/delete requests 25 at a time, resending what DynamoDB leaves unprocessed."""
        for start in range(0, len(requests), 25):
            pending: dict[str, Any] = {self._table: requests[start : start + 25]}
            for _ in range(_BATCH_ATTEMPTS):
                pending = dict(self._db.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {})
                if not pending:
                    break
            else:
                raise RuntimeError("DynamoDB kept some writes unprocessed; try again")

    # alerts: the outbox ----------------------------------------------------------------------
    def claim_alert(
        self, alert: Alert, channels: Sequence[str], now: datetime, lease_until: datetime
    ) -> OutboxEntry | None:
        """Create the alert's outbox record once, holding the message and the channels still to deliver.

        None means the key exists already: sent, failed for good, or pending under someone's lease.
        """
        entry = OutboxEntry(alert=alert, pending=tuple(channels), attempts=0, claimed_on=now.date())
        try:
            self._db.put_item(
                TableName=self._table,
                Item={
                    "PK": _emp(alert.employee_id),
                    "SK": _s(f"ALERT#{alert.key}"),
                    "state": _s("pending"),
                    "sent_on": _s(now.date().isoformat()),
                    "body": _s(alert.model_dump_json()),
                    "pending": {"SS": list(channels)},
                    "deliveries": {"M": {}},
                    "attempts": _n(0),
                    "lease_until": _s(_utc_iso(lease_until)),
                    "GSI1PK": _s(OUTBOX_PK),
                    "GSI1SK": _s(_outbox_sort_key("PENDING", lease_until, alert)),
                    TTL_ATTRIBUTE: _n(retention.alert_expires_at(now.date())),
                },
                ConditionExpression="attribute_not_exists(PK)",
            )
        except self._db.exceptions.ConditionalCheckFailedException:
            return None
        return entry

    def alert_state(self, employee_id: str, key: str) -> str | None:
        """``pending``, ``sent`` or ``failed`` for a claimed key, None if never claimed.

        A read costs a fraction of the failed conditional write a repeated claim of a ~12 KB message
        would, and most daily runs meet keys that were sent long ago.
        """
        item = self._db.get_item(
            TableName=self._table,
            Key={"PK": _emp(employee_id), "SK": _s(f"ALERT#{key}")},
            ProjectionExpression="#state",
            ExpressionAttributeNames={"#state": "state"},
            ConsistentRead=True,
        ).get("Item")
        return item["state"]["S"] if item else None

    def take_over_alert(
        self, employee_id: str, key: str, now: datetime, lease_until: datetime
    ) -> OutboxEntry | None:
        """Take a pending message whose lease ran out (its sender crashed or failed); None if not ours."""
        sk = _s(f"ALERT#{key}")
        try:
            item = self._db.update_item(
                TableName=self._table,
                Key={"PK": _emp(employee_id), "SK": sk},
                UpdateExpression="SET lease_until = :until",
                ConditionExpression="#state = :pending AND lease_until <= :now",
                ExpressionAttributeNames={"#state": "state"},
                ExpressionAttributeValues={
                    ":until": _s(_utc_iso(lease_until)),
                    ":pending": _s("pending"),
                    ":now": _s(_utc_iso(now)),
                },
                ReturnValues="ALL_NEW",
            )["Attributes"]
        except self._db.exceptions.ConditionalCheckFailedException:
            return None
        entry = _outbox_entry(item)
        self._db.update_item(
            TableName=self._table,
            Key={"PK": _emp(employee_id), "SK": sk},
            UpdateExpression="SET GSI1SK = :sk",
            ExpressionAttributeValues={":sk": _s(_outbox_sort_key("PENDING", lease_until, entry.alert))},
        )
        return entry

    def confirm_delivery(self, employee_id: str, key: str, channel: str, message_id: str) -> bool:
        """Record one channel's delivery; True once every channel has it (the body is then dropped)."""
        sk = _s(f"ALERT#{key}")
        item = self._db.update_item(
            TableName=self._table,
            Key={"PK": _emp(employee_id), "SK": sk},
            UpdateExpression="SET deliveries.#ch = :m DELETE pending :chs",
            ExpressionAttributeNames={"#ch": channel},
            ExpressionAttributeValues={":m": _s(message_id), ":chs": {"SS": [channel]}},
            ReturnValues="ALL_NEW",
        )["Attributes"]
        if item.get("pending", {}).get("SS"):
            return False
        # Delivered everywhere: keep only the key and message ids (the duplicate guard), not the text.
        self._db.update_item(
            TableName=self._table,
            Key={"PK": _emp(employee_id), "SK": sk},
            UpdateExpression="SET #state = :sent, message_id = :m "
            "REMOVE body, lease_until, last_error, GSI1PK, GSI1SK",
            ExpressionAttributeNames={"#state": "state"},
            ExpressionAttributeValues={":sent": _s("sent"), ":m": _s(message_id)},
        )
        return True

    def record_failure(
        self, entry: OutboxEntry, channel: str, error: str, now: datetime, retry_at: datetime | None
    ) -> None:
        """Count a failed delivery run; with no ``retry_at`` the message has failed for good."""
        state, when = ("pending", retry_at) if retry_at is not None else ("failed", now)
        self._db.update_item(
            TableName=self._table,
            Key={"PK": _emp(entry.alert.employee_id), "SK": _s(f"ALERT#{entry.alert.key}")},
            UpdateExpression="SET #state = :state, attempts = attempts + :one, last_error = :err, "
            "failed_channel = :ch, lease_until = :when, GSI1SK = :sk",
            ExpressionAttributeNames={"#state": "state"},
            ExpressionAttributeValues={
                ":state": _s(state),
                ":one": _n(1),
                ":err": _s(error[:500]),
                ":ch": _s(channel),
                ":when": _s(_utc_iso(when)),
                ":sk": _s(_outbox_sort_key(state.upper(), when, entry.alert)),
            },
        )

    def due_outbox(self, now: datetime) -> list[tuple[str, str]]:
        """(employee id, key) of pending messages whose lease or retry time has passed, oldest first."""
        items = self._paged_query(
            IndexName=GSI_OPEN_CASES,
            KeyConditionExpression="GSI1PK = :p AND GSI1SK BETWEEN :a AND :b",
            ExpressionAttributeValues={
                ":p": _s(OUTBOX_PK),
                ":a": _s("PENDING#"),
                ":b": _s(f"PENDING#{_utc_iso(now)}#\uffff"),
            },
        )
        return [(i["PK"]["S"].removeprefix("EMP#"), i["SK"]["S"].removeprefix("ALERT#")) for i in items]

    def failed_messages(self) -> list[FailedMessage]:
        """Messages that kept failing; they stay listed until someone resends or they expire."""
        items = self._paged_query(
            IndexName=GSI_OPEN_CASES,
            KeyConditionExpression="GSI1PK = :p AND begins_with(GSI1SK, :f)",
            ExpressionAttributeValues={":p": _s(OUTBOX_PK), ":f": _s("FAILED#")},
        )
        failed = []
        for item in items:
            alert = Alert.model_validate_json(item["body"]["S"])
            failed.append(
                FailedMessage(
                    key=alert.key,
                    kind=alert.kind,
                    employee_id=alert.employee_id,
                    recipient=alert.recipient,
                    subject=alert.subject,
                    channel=item.get("failed_channel", {}).get("S", "-"),
                    attempts=int(item["attempts"]["N"]),
                    last_error=item.get("last_error", {}).get("S", ""),
                    claimed_on=date.fromisoformat(item["sent_on"]["S"]),
                )
            )
        return failed

    def retry_failed(self, employee_id: str, key: str, now: datetime) -> bool:
        """Put a failed message back in the outbox (after HR fixed the address, say); False if unknown."""
        try:
            item = self._db.update_item(
                TableName=self._table,
                Key={"PK": _emp(employee_id), "SK": _s(f"ALERT#{key}")},
                UpdateExpression="SET #state = :pending, attempts = :zero, lease_until = :now",
                ConditionExpression="#state = :failed",
                ExpressionAttributeNames={"#state": "state"},
                ExpressionAttributeValues={
                    ":pending": _s("pending"),
                    ":failed": _s("failed"),
                    ":zero": _n(0),
                    ":now": _s(_utc_iso(now)),
                },
                ReturnValues="ALL_NEW",
            )["Attributes"]
        except self._db.exceptions.ConditionalCheckFailedException:
            return False
        self._db.update_item(
            TableName=self._table,
            Key={"PK": _emp(employee_id), "SK": _s(f"ALERT#{key}")},
            UpdateExpression="SET GSI1SK = :sk",
            ExpressionAttributeValues={
                ":sk": _s(_outbox_sort_key("PENDING", now, _outbox_entry(item).alert))
            },
        )
        return True

    def alert_was_sent(self, employee_id: str, key_prefix: str) -> bool:
        """Whether any alert whose key starts with ``key_prefix`` went out to this employee's HR."""
        items = self._query_prefix(employee_id, f"ALERT#{key_prefix}")
        return any(i.get("state", {}).get("S") == "sent" for i in items)

    # travelers' answers ---------------------------------------------------------------------
    def put_trip_answer(self, employee_id: str, trip_id: str, purpose: Purpose, trip_end: date) -> None:
        """The traveler said what the trip is; it outranks what the calendar suggested."""
        self._db.put_item(
            TableName=self._table,
            Item={
                "PK": _emp(employee_id),
                "SK": _s(f"ANSWER#{trip_id}"),
                "purpose": _s(purpose.value),
                TTL_ATTRIBUTE: _n(retention.trip_expires_at(trip_end)),
            },
        )

    def trip_answers(self, employee_id: str) -> dict[str, Purpose]:
        return {
            i["SK"]["S"].removeprefix("ANSWER#"): Purpose(i["purpose"]["S"])
            for i in self._query_prefix(employee_id, "ANSWER#")
        }

    # leases and provider back-off ----------------------------------------------------------------
    def take_lease(self, connection_id: str, owner: str, now: datetime, until: datetime) -> datetime | None:
        """Hold ``connection_id`` for ``owner`` until ``until``: None when the lease is now ours,
        otherwise the moment the current holder's lease runs out.

        One small item per connection (``SYNC#<id>`` / ``LEASE``), written with a condition: absent,
        run out, or already ours. A worker that crashed holds it only until its invocation's deadline.
        """
        try:
            self._db.put_item(
                TableName=self._table,
                Item={
                    "PK": _s(f"SYNC#{connection_id}"),
                    "SK": _s("LEASE"),
                    "owner": _s(owner),
                    "lease_until": _n(_epoch_ceil(until)),
                    TTL_ATTRIBUTE: _n(retention.lease_expires_at(until)),
                },
                ConditionExpression="attribute_not_exists(PK) OR lease_until <= :now OR #owner = :owner",
                ExpressionAttributeNames={"#owner": "owner"},
                ExpressionAttributeValues={":now": _n(int(now.timestamp())), ":owner": _s(owner)},
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except self._db.exceptions.ConditionalCheckFailedException as exc:
            answer: dict[str, Any] = getattr(exc, "response", {})  # botocore's error response
            held = answer.get("Item", {}).get("lease_until", {}).get("N")
            return datetime.fromtimestamp(int(held), UTC) if held else until
        return None

    def release_lease(self, connection_id: str, owner: str) -> None:
        """Give the lease back; a lease that ran out and was taken by another worker stays theirs."""
        with suppress(self._db.exceptions.ConditionalCheckFailedException):
            self._db.delete_item(
                TableName=self._table,
                Key={"PK": _s(f"SYNC#{connection_id}"), "SK": _s("LEASE")},
                ConditionExpression="#owner = :owner",
                ExpressionAttributeNames={"#owner": "owner"},
                ExpressionAttributeValues={":owner": _s(owner)},
            )

    def provider_backoff(self, provider: str) -> datetime | None:
        """Until when ``provider`` (``graph``, ``google``) asked everyone to wait; None if it never did.

        An eventually consistent read: a worker that misses a back-off written a moment ago makes one
        more request and is told to wait again.
        """
        item = self._db.get_item(
            TableName=self._table, Key={"PK": _s(f"PROVIDER#{provider}"), "SK": _s("BACKOFF")}
        ).get("Item")
        return datetime.fromtimestamp(int(item["backoff_until"]["N"]), UTC) if item else None

    def extend_provider_backoff(self, provider: str, until: datetime) -> None:
        """Make every worker wait for ``provider`` until ``until``; an earlier moment never shortens it."""
        with suppress(self._db.exceptions.ConditionalCheckFailedException):
            self._db.put_item(
                TableName=self._table,
                Item={
                    "PK": _s(f"PROVIDER#{provider}"),
                    "SK": _s("BACKOFF"),
                    "backoff_until": _n(_epoch_ceil(until)),
                    TTL_ATTRIBUTE: _n(retention.backoff_expires_at(until)),
                },
                ConditionExpression="attribute_not_exists(PK) OR backoff_until < :until",
                ExpressionAttributeValues={":until": _n(_epoch_ceil(until))},
            )

    # connections, channels and the events read from them ----------------------------------------
    def put_connection(self, connection: Connection) -> None:
        data = _s(connection.model_dump_json())
        self._db.put_item(
            TableName=self._table,
            Item={"PK": _s(f"CONN#{connection.id}"), "SK": _s("CONNECTION"), "data": data},
        )
        for pk in (_emp(connection.employee_id), _s(ALL_CONNECTIONS)):
            self._db.put_item(
                TableName=self._table, Item={"PK": pk, "SK": _s(f"CONN#{connection.id}"), "data": data}
            )

    def all_connections(self) -> list[Connection]:
        """Every connection, for the scheduler's fan-out (one partition; fine for tens of thousands)."""
        items = self._paged_query(
            KeyConditionExpression="PK = :pk", ExpressionAttributeValues={":pk": _s(ALL_CONNECTIONS)}
        )
        return [Connection.model_validate_json(i["data"]["S"]) for i in items]

    def get_connection(self, connection_id: str) -> Connection | None:
        item = self._db.get_item(
            TableName=self._table,
            Key={"PK": _s(f"CONN#{connection_id}"), "SK": _s("CONNECTION")},
            ConsistentRead=True,
        ).get("Item")
        return Connection.model_validate_json(item["data"]["S"]) if item else None

    def connections_of(self, employee_id: str) -> list[Connection]:
        return [
            Connection.model_validate_json(i["data"]["S"]) for i in self._query_prefix(employee_id, "CONN#")
        ]

    def put_channel(self, channel: Channel) -> None:
        expires = int(channel.expires_at.timestamp()) + retention.ALERT_DAYS * 86400
        data = _s(channel.model_dump_json())
        previous = self.get_channel(channel.id)
        if previous is not None and previous.expires_at != channel.expires_at:
            self._db.delete_item(TableName=self._table, Key=_channel_index_key(previous))
        for key in ({"PK": _s(f"CHAN#{channel.id}"), "SK": _s("CHANNEL")}, _channel_index_key(channel)):
            self._db.put_item(TableName=self._table, Item={**key, "data": data, TTL_ATTRIBUTE: _n(expires)})

    def get_channel(self, channel_id: str) -> Channel | None:
        item = self._db.get_item(
            TableName=self._table,
            Key={"PK": _s(f"CHAN#{channel_id}"), "SK": _s("CHANNEL")},
            ConsistentRead=True,
        ).get("Item")
        return Channel.model_validate_json(item["data"]["S"]) if item else None

    def delete_channel(self, channel_id: str) -> None:
        channel = self.get_channel(channel_id)
        if channel is not None:
            self._db.delete_item(TableName=self._table, Key=_channel_index_key(channel))
        self._db.delete_item(TableName=self._table, Key={"PK": _s(f"CHAN#{channel_id}"), "SK": _s("CHANNEL")})

    def channels_expiring_before(self, moment: datetime) -> list[Channel]:
        """Push channels whose expiry is before ``moment``, soonest first (for the renewal schedule)."""
        items = self._paged_query(
            KeyConditionExpression="PK = :pk AND SK < :before",
            ExpressionAttributeValues={":pk": _s(ALL_CHANNELS), ":before": _s(_utc_iso(moment))},
        )
        return [Channel.model_validate_json(i["data"]["S"]) for i in items]

    def events_of(self, connection_id: str) -> list[CalendarEvent]:
        items = self._paged_query(
            KeyConditionExpression="PK = :pk AND begins_with(SK, :prefix)",
            ExpressionAttributeValues={":pk": _s(f"CONN#{connection_id}"), ":prefix": _s("EVT#")},
            ConsistentRead=True,
        )
        return [CalendarEvent.model_validate_json(i["data"]["S"]) for i in items]

    def apply_event_changes(
        self, connection_id: str, changed: list[CalendarEvent], removed: list[str], *, replace_all: bool
    ) -> int:
        """Upsert ``changed``, delete ``removed`` (or everything not in ``changed`` when replacing);
        returns the number of writes. Only normalised fields are stored, never bodies or attendees.

        Written 25 to a BatchWriteItem call: the same write units as one call per event, but a first
        sync of a 50-event calendar is 2 round trips instead of 50. A batch may not touch a key twice,
        so each uid is written once: its last version, or its deletion.
        """
        pk = _s(f"CONN#{connection_id}")
        gone = set(removed)
        held: dict[str, CalendarEvent] = {}
        if replace_all:
            held = {e.uid: e for e in self.events_of(connection_id)}
            keep = {e.uid for e in changed}
            gone |= {uid for uid in held if uid not in keep}
        latest = {e.uid: e for e in changed if e.uid not in gone}
        requests: list[dict[str, Any]] = [
            {
                "PutRequest": {
                    "Item": {
                        "PK": pk,
                        "SK": _s(f"EVT#{event.uid}"),
                        "data": _s(event.model_dump_json()),
                        TTL_ATTRIBUTE: _n(retention.event_expires_at(event.end.date())),
                    }
                }
            }
            for event in latest.values()
            if held.get(event.uid) != event  # a full re-sync that found this event unchanged
        ]
        requests += [{"DeleteRequest": {"Key": {"PK": pk, "SK": _s(f"EVT#{uid}")}}} for uid in sorted(gone)]
        self._batch_write(requests)
        return len(requests)

    # API keys and the audit trail ---------------------------------------------------------------
    def put_api_key(self, key: ApiKey) -> None:
        self._db.put_item(
            TableName=self._table,
            Item={
                "PK": _s(API_KEYS_PK),
                "SK": _s(key.id),
                "data": _s(key.model_dump_json()),
                **(
                    {TTL_ATTRIBUTE: _n(retention.api_key_expires_at(key.expires_at))}
                    if key.expires_at
                    else {}
                ),
            },
        )

    def get_api_key(self, key_id: str) -> ApiKey | None:
        item = self._db.get_item(
            TableName=self._table, Key={"PK": _s(API_KEYS_PK), "SK": _s(key_id)}, ConsistentRead=True
        ).get("Item")
        return ApiKey.model_validate_json(item["data"]["S"]) if item else None

    def api_keys(self) -> list[ApiKey]:
        items = self._paged_query(
            KeyConditionExpression="PK = :pk", ExpressionAttributeValues={":pk": _s(API_KEYS_PK)}
        )
        return [ApiKey.model_validate_json(i["data"]["S"]) for i in items]

    def append_audit(self, entry: AuditEntry) -> None:
        self._db.put_item(
            TableName=self._table,
            Item={
                "PK": _s(f"{AUDIT_PREFIX}{entry.at.astimezone(UTC).date().isoformat()}"),
                "SK": _s(f"{entry.at.astimezone(UTC).isoformat()}#{uuid.uuid4().hex[:12]}"),
                "data": _s(entry.model_dump_json()),
                TTL_ATTRIBUTE: _n(retention.audit_expires_at(entry.at.date())),
            },
        )

    def audit_of_day(
        self, day: date, limit: int, after: str | None = None
    ) -> tuple[list[AuditEntry], str | None]:
        """One day's entries in time order, ``limit`` at a time; the second value resumes the page."""
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "PK = :pk",
            "ExpressionAttributeValues": {":pk": _s(f"{AUDIT_PREFIX}{day.isoformat()}")},
            "Limit": limit,
        }
        if after:
            kwargs["ExclusiveStartKey"] = {"PK": _s(f"{AUDIT_PREFIX}{day.isoformat()}"), "SK": _s(after)}
        page = self._db.query(**kwargs)
        entries = [AuditEntry.model_validate_json(i["data"]["S"]) for i in page.get("Items", [])]
        last = page.get("LastEvaluatedKey")
        return entries, (last["SK"]["S"] if last else None)

    # helpers ----------------------------------------------------------------------------------
    def _query_prefix(self, employee_id: str, prefix: str) -> list[dict[str, Any]]:
        return self._paged_query(
            KeyConditionExpression="PK = :pk AND begins_with(SK, :prefix)",
            ExpressionAttributeValues={":pk": _emp(employee_id), ":prefix": _s(prefix)},
            ConsistentRead=True,
        )

    def _paged_query(self, **kwargs: Any) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        paginator = self._db.get_paginator("query")
        for page in paginator.paginate(TableName=self._table, **kwargs):
            items.extend(page.get("Items", []))
        return items


def _utc_iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _epoch_ceil(moment: datetime) -> int:
    """Whole epoch seconds, rounded up: a lease or back-off never ends before the moment asked for."""
    return math.ceil(moment.timestamp())


_BATCH_ATTEMPTS = 8
"""Rounds of resending what a batch call left unprocessed (throttling) before giving up."""
_TRIP_ITEMS = ("TRIP#", "TRIPHIST#", "OVERRIDE#", "ANSWER#")


def _trip_id_in(sort_key: str) -> str | None:
    """The trip id an employee-partition item is about (trip, its history, override, answer), if any."""
    for prefix in _TRIP_ITEMS:
        if sort_key.startswith(prefix):
            rest = sort_key.removeprefix(prefix)
            return rest.rsplit("#", 1)[0] if prefix == "TRIPHIST#" else rest
    return None


def _channel_index_key(channel: Channel) -> dict[str, Any]:
    return {"PK": _s(ALL_CHANNELS), "SK": _s(f"{_utc_iso(channel.expires_at)}#{channel.id}")}


def _outbox_sort_key(state: str, when: datetime, alert: Alert) -> str:
    return f"{state}#{_utc_iso(when)}#{alert.employee_id}#{alert.key}"


def _outbox_entry(item: dict[str, Any]) -> OutboxEntry:
    return OutboxEntry(
        alert=Alert.model_validate_json(item["body"]["S"]),
        pending=tuple(sorted(item.get("pending", {}).get("SS", []))),
        attempts=int(item["attempts"]["N"]),
        claimed_on=date.fromisoformat(item["sent_on"]["S"]),
    )


LIST_READ_BUDGET = 1000
"""Trips one listing call may read before it hands back a resume point (keeps a page well under a second)."""
LIST_QUERY_BUDGET = 24
"""Month partitions one listing call may query (two years of empty months) before it hands back."""
_GSI2_KEY = ("PK", "SK", "GSI2PK", "GSI2SK")


def _keep_all(_: StoredTrip) -> bool:
    return True


def _trips_month(start: date) -> str:
    return f"{TRIPS_MONTH_PREFIX}{start.year:04d}-{start.month:02d}"


def _months_between(first: date, last: date) -> list[str]:
    """``yyyy-mm`` of every month from ``first`` to ``last`` (empty when last is before first)."""
    months, year, month = [], first.year, first.month
    while (year, month) <= (last.year, last.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def _plain_gsi2_key(item: Mapping[str, Any]) -> dict[str, str]:
    return {name: str(item[name]["S"]) for name in _GSI2_KEY}


def _gsi_resume(
    resume: Mapping[str, Any] | None, months: list[str], first: date, last: date
) -> tuple[int, dict[str, Any] | None]:
    """(month index, ExclusiveStartKey) to continue from; BadResumeError for anything not handed out."""
    if resume is None:
        return 0, None
    month, key = resume.get("month"), resume.get("key")
    if set(resume) != {"month", "key"} or month not in months:
        raise BadResumeError("the resume point does not belong to this date range")
    if key is None:
        return months.index(month), None
    if (
        not isinstance(key, dict)
        or set(key) != set(_GSI2_KEY)
        or not all(isinstance(v, str) for v in key.values())
        or key["GSI2PK"] != TRIPS_MONTH_PREFIX + month
        or not key["PK"].startswith("EMP#")
        or not key["SK"].startswith("TRIP#")
        or not first.isoformat() <= key["GSI2SK"] <= last.isoformat() + "#\uffff"
    ):
        raise BadResumeError("the resume point is not a trip of this listing")
    return months.index(month), {name: _s(key[name]) for name in _GSI2_KEY}


def _employee_sort_key(stored: StoredTrip) -> str:
    return f"{stored.trip.start.isoformat()}#{stored.trip.id}"


def _employee_resume(resume: Mapping[str, Any] | None) -> str | None:
    if resume is None:
        return None
    after = resume.get("after")
    if set(resume) != {"after"} or not isinstance(after, str) or "#" not in after:
        raise BadResumeError("the resume point is not a trip of this employee's listing")
    return after


def _stored_trip(item: dict[str, Any]) -> StoredTrip:
    doc = json.loads(item["data"]["S"])
    return StoredTrip(
        trip=Trip.model_validate(doc["trip"]),
        assessment=Assessment.model_validate(doc["assessment"]),
        version=int(item["version"]["N"]),
        first_seen=date.fromisoformat(item["first_seen"]["S"]) if "first_seen" in item else None,
    )
