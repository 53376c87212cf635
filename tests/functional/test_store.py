"""The DynamoDB repository: the three access paths, idempotent writes and retention, on moto."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from chalicelib import bootstrap
from chalicelib.bootstrap import Settings
from chalicelib.models import Alert, AlertKind, SourceKind, Status, SyncState
from chalicelib.store.repository import DynamoRepository, StaleSyncStateError, WriteOutcome
from tests.builders import assessment, certificate, employee, trip


@pytest.fixture
def repo(mocked_aws: Settings) -> DynamoRepository:
    r = bootstrap.repository(mocked_aws)
    assert isinstance(r, DynamoRepository)
    return r


def test_replaying_the_same_trip_changes_nothing(repo: DynamoRepository) -> None:
    t, a = trip(date(2027, 3, 3)), assessment()
    assert repo.save_trip(t, a) is WriteOutcome.CREATED
    assert repo.save_trip(t, a) is WriteOutcome.UNCHANGED
    # deciding again on a later day with the same answer is not a change either
    assert repo.save_trip(t, a.model_copy(update={"decided_on": date(2027, 1, 20)})) is WriteOutcome.UNCHANGED
    (stored,) = repo.trips_of("emp-1")
    assert stored.version == 1
    assert stored.trip == t


def test_a_moved_trip_is_updated_in_place_with_a_new_version(repo: DynamoRepository) -> None:
    repo.save_trip(trip(date(2027, 3, 3)), assessment())
    assert repo.save_trip(trip(date(2027, 3, 10)), assessment()) is WriteOutcome.UPDATED
    (stored,) = repo.trips_of("emp-1")
    assert (stored.trip.start, stored.version) == (date(2027, 3, 10), 2)


def test_open_cases_are_the_trips_lacking_a_certificate_in_the_date_range(repo: DynamoRepository) -> None:
    repo.save_trip(trip(date(2027, 3, 3), id="t-march"), assessment())
    repo.save_trip(trip(date(2027, 4, 30), id="t-april-end"), assessment())
    repo.save_trip(trip(date(2027, 5, 1), id="t-may"), assessment())
    repo.save_trip(trip(date(2027, 3, 20), id="t-covered"), assessment(Status.COVERED))
    repo.save_trip(trip(date(2027, 3, 21), id="t-holiday", country="ES"), assessment(Status.NOT_REQUIRED))
    other = trip(date(2027, 3, 5), id="t-other", employee_id="emp-2")
    repo.save_trip(other, assessment(Status.EXCEEDS_MAXIMUM))

    found = repo.trips_lacking_certificate(date(2027, 3, 1), date(2027, 4, 30))
    assert [s.trip.id for s in found] == ["t-march", "t-other", "t-april-end"]


def test_a_case_leaves_the_open_list_when_covered_or_cancelled(repo: DynamoRepository) -> None:
    t = trip(date(2027, 3, 3))
    repo.save_trip(t, assessment())
    repo.save_trip(t, assessment(Status.COVERED))
    assert repo.trips_lacking_certificate(date(2027, 3, 1), date(2027, 3, 31)) == []
    repo.save_trip(t, assessment())
    repo.save_trip(t.model_copy(update={"cancelled": True}), assessment())
    assert repo.trips_lacking_certificate(date(2027, 3, 1), date(2027, 3, 31)) == []


def test_trips_of_an_employee_are_theirs_only_and_in_date_order(repo: DynamoRepository) -> None:
    repo.save_trip(trip(date(2027, 6, 1), id="b"), assessment())
    repo.save_trip(trip(date(2027, 3, 1), id="a"), assessment())
    repo.save_trip(trip(date(2027, 4, 1), id="x", employee_id="emp-2"), assessment())
    repo.put_certificate(certificate())
    assert [s.trip.id for s in repo.trips_of("emp-1")] == ["a", "b"]
    assert [c.id for c in repo.certificates_of("emp-1")] == ["c1"]


def test_employee_round_trip(repo: DynamoRepository) -> None:
    repo.put_employee(employee())
    assert repo.get_employee("emp-1") == employee()
    assert repo.get_employee("nobody") is None


def test_sync_state_refuses_a_stale_writer(repo: DynamoRepository) -> None:
    first = repo.save_sync_state(
        SyncState(connection_id="ics:emp-1:a.ics", source=SourceKind.ICS, cursor="1")
    )
    assert repo.get_sync_state("ics:emp-1:a.ics") == first
    assert first.version == 1
    repo.save_sync_state(first.model_copy(update={"cursor": "2"}))
    with pytest.raises(StaleSyncStateError):
        repo.save_sync_state(first.model_copy(update={"cursor": "3"}))
    latest = repo.get_sync_state("ics:emp-1:a.ics")
    assert latest is not None
    assert (latest.cursor, latest.version) == ("2", 2)


def _claim(repo: DynamoRepository, when: datetime) -> bool:
    alert = Alert(
        key="k1",
        kind=AlertKind.MISSING_CERTIFICATE,
        employee_id="emp-1",
        trip_id="t",
        recipient="hr@example.com",
        subject="s",
        text="t",
        html="<p>t</p>",
    )
    return repo.claim_alert(alert, ("email",), when, when + timedelta(minutes=10)) is not None


def test_an_alert_can_be_claimed_once_and_taken_over_only_after_its_lease(repo: DynamoRepository) -> None:
    noon = datetime(2027, 1, 15, 12, tzinfo=UTC)
    assert _claim(repo, noon)
    assert not _claim(repo, noon + timedelta(days=1))
    assert (
        repo.take_over_alert("emp-1", "k1", noon + timedelta(minutes=5), noon + timedelta(minutes=15)) is None
    )
    taken = repo.take_over_alert("emp-1", "k1", noon + timedelta(minutes=11), noon + timedelta(minutes=21))
    assert taken is not None
    assert taken.pending == ("email",)
    assert repo.confirm_delivery("emp-1", "k1", "email", "ses-1")
    assert repo.take_over_alert("emp-1", "k1", noon + timedelta(days=1), noon + timedelta(days=2)) is None


def test_every_item_gets_a_retention_deadline(repo: DynamoRepository, mocked_aws: Settings) -> None:
    repo.save_trip(trip(date(2027, 3, 3)), assessment())
    repo.put_certificate(certificate())
    _claim(repo, datetime(2027, 1, 15, 12, tzinfo=UTC))
    repo.save_sync_state(SyncState(connection_id="c", source=SourceKind.ICS))
    items = bootstrap.aws_client("dynamodb", mocked_aws).scan(TableName=mocked_aws.table_name)["Items"]
    kinds = {i["SK"]["S"].split("#")[0]: int(i["expires_at"]["N"]) for i in items}
    assert set(kinds) == {"TRIP", "TRIPHIST", "OWNER", "CERT", "ALERT", "STATE"}
    # a 2027 trip is kept until the end of 2031 (four years after the year it ended)
    assert kinds["TRIP"] == int(datetime(2031, 12, 31, tzinfo=UTC).timestamp())
    # and so are its history and the pointer from its id to its employee
    assert kinds["TRIPHIST"] == kinds["OWNER"] == kinds["TRIP"]


def test_events_of_a_connection_are_upserted_removed_and_replaced(repo: DynamoRepository) -> None:
    from datetime import datetime

    from chalicelib.models import CalendarEvent

    def event(uid: str, day: int) -> CalendarEvent:
        return CalendarEvent(
            source=SourceKind.GRAPH,
            calendar_id="anna",
            uid=uid,
            title="Workshop",
            location="Paris",
            start=datetime(2027, 3, day, 9),
            end=datetime(2027, 3, day, 17),
        )

    assert repo.apply_event_changes("c1", [event("a", 1), event("b", 2)], [], replace_all=True) == 2
    assert repo.apply_event_changes("c1", [event("a", 3)], ["b"], replace_all=False) == 2
    assert [(e.uid, e.start.day) for e in repo.events_of("c1")] == [("a", 3)]
    # a full re-sync drops what the source no longer has
    assert repo.apply_event_changes("c1", [event("c", 4)], [], replace_all=True) == 2
    assert [e.uid for e in repo.events_of("c1")] == ["c"]
    assert repo.events_of("other") == []


def test_connections_and_channels_round_trip(repo: DynamoRepository) -> None:
    from datetime import datetime

    from chalicelib.models import Channel, Connection

    conn = Connection(
        id="graph:anna", employee_id="emp-1", source=SourceKind.GRAPH, account="anna@example.com"
    )
    repo.put_connection(conn)
    assert repo.get_connection("graph:anna") == conn
    assert repo.connections_of("emp-1") == [conn]
    chan = Channel(
        id="sub-1",
        source=SourceKind.GRAPH,
        connection_id="graph:anna",
        secret_sha256="0" * 64,
        expires_at=datetime(2027, 3, 1, tzinfo=UTC),
    )
    repo.put_channel(chan)
    assert repo.get_channel("sub-1") == chan
    repo.delete_channel("sub-1")
    assert repo.get_channel("sub-1") is None
