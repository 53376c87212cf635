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
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

from chalicelib.api.records import ApiKey, AuditEntry
from chalicelib.models import (
    Alert,
    Assessment,
    CalendarEvent,
    Certificate,
    Channel,
    Connection,
    Employee,
    FailedMessage,
    Purpose,
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
    OPEN_CASES_PK,
    OUTBOX_PK,
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


@dataclass(frozen=True)
class OutboxEntry:
    """A claimed message not yet delivered everywhere: what to send and to which channels."""

    alert: Alert
    pending: tuple[str, ...]
    attempts: int
    claimed_on: date


class StaleSyncStateError(Exception):
    """Someone else saved this calendar's sync state first; re-read it and try again."""


class Repository(Protocol):
    def put_employee(self, employee: Employee) -> None: ...
    def get_employee(self, employee_id: str) -> Employee | None: ...
    def put_certificate(self, certificate: Certificate) -> None: ...
    def certificates_of(self, employee_id: str) -> list[Certificate]: ...
    def save_trip(self, trip: Trip, assessment: Assessment) -> WriteOutcome: ...
    def trips_of(self, employee_id: str) -> list[StoredTrip]: ...
    def trips_lacking_certificate(self, first_start: date, last_start: date) -> list[StoredTrip]: ...
    def get_sync_state(self, connection_id: str) -> SyncState | None: ...
    def save_sync_state(self, state: SyncState) -> SyncState: ...
    def claim_alert(
        self, alert: Alert, channels: Sequence[str], now: datetime, lease_until: datetime
    ) -> OutboxEntry | None: ...
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
        }
        sets = [
            "#data = :data",
            "content_hash = :hash",
            "trip_start = :start",
            "#status = :status",
            f"{TTL_ATTRIBUTE} = :ttl",
            "version = if_not_exists(version, :zero) + :one",
            "first_seen = if_not_exists(first_seen, :seen)",
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
                ReturnValues="UPDATED_OLD",
            )
        except self._db.exceptions.ConditionalCheckFailedException:
            return WriteOutcome.UNCHANGED
        return WriteOutcome.UPDATED if "version" in result.get("Attributes", {}) else WriteOutcome.CREATED

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
        returns the number of writes. Only normalised fields are stored, never bodies or attendees."""
        pk = _s(f"CONN#{connection_id}")
        gone = set(removed)
        held: dict[str, CalendarEvent] = {}
        if replace_all:
            held = {e.uid: e for e in self.events_of(connection_id)}
            keep = {e.uid for e in changed}
            gone |= {uid for uid in held if uid not in keep}
        writes = 0
        for event in changed:
            if held.get(event.uid) == event:
                continue  # a full re-sync that found this event unchanged
            self._db.put_item(
                TableName=self._table,
                Item={
                    "PK": pk,
                    "SK": _s(f"EVT#{event.uid}"),
                    "data": _s(event.model_dump_json()),
                    TTL_ATTRIBUTE: _n(retention.event_expires_at(event.end.date())),
                },
            )
            writes += 1
        for uid in sorted(gone):
            self._db.delete_item(TableName=self._table, Key={"PK": pk, "SK": _s(f"EVT#{uid}")})
            writes += 1
        return writes

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


def _stored_trip(item: dict[str, Any]) -> StoredTrip:
    doc = json.loads(item["data"]["S"])
    return StoredTrip(
        trip=Trip.model_validate(doc["trip"]),
        assessment=Assessment.model_validate(doc["assessment"]),
        version=int(item["version"]["N"]),
        first_seen=date.fromisoformat(item["first_seen"]["S"]) if "first_seen" in item else None,
    )
