"""The traveler's signed answer links: a look changes nothing, a press records, bad links are refused."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from chalicelib import bootstrap
from chalicelib.alerts.links import LinkError, TripAnswer, sign, verify
from chalicelib.bootstrap import Settings
from chalicelib.models import Purpose
from tests.builders import assessment, employee, trip
from tests.functional.conftest import KeyedClient

SECRET = b"test-link-secret"
NOW = datetime(2027, 1, 15, 9, tzinfo=UTC)


def _token(
    purpose: Purpose = Purpose.HOLIDAY, expires: datetime | None = None, trip_id: str = "trp_1"
) -> str:
    return sign(TripAnswer("emp-1", trip_id, purpose, expires or datetime(2099, 1, 1, tzinfo=UTC)), SECRET)


def test_a_signed_answer_round_trips_and_any_change_is_refused() -> None:
    token = _token(Purpose.WORK, NOW + timedelta(days=10))
    assert verify(token, SECRET, NOW) == TripAnswer("emp-1", "trp_1", Purpose.WORK, NOW + timedelta(days=10))
    mac = token.split(".")[1]
    forged = _token(Purpose.HOLIDAY, NOW + timedelta(days=10)).split(".")[0] + "." + mac
    for bad, problem in [(forged, "tampered"), (token, "tampered"), ("nonsense", "malformed")]:
        with pytest.raises(LinkError) as err:
            verify(bad, b"another-secret" if bad == token else SECRET, NOW)
        assert err.value.problem == problem
    with pytest.raises(LinkError) as err:
        verify(token, SECRET, NOW + timedelta(days=11))
    assert err.value.problem == "expired"


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch, mocked_aws: Settings, api: KeyedClient) -> KeyedClient:
    monkeypatch.setenv("COVERWATCH_LINK_SECRET", SECRET.decode())
    bootstrap.default_settings.cache_clear()
    repo = bootstrap.repository(mocked_aws)
    repo.put_employee(employee())
    repo.save_trip(trip(date(2027, 3, 3)), assessment())
    return api


def test_opening_a_link_only_asks_and_pressing_records_the_holiday(
    client: KeyedClient, mocked_aws: Settings
) -> None:
    repo = bootstrap.repository(mocked_aws)
    token = _token(Purpose.HOLIDAY)
    page = client.http.get(f"/v1/answers/{token}")
    assert page.status_code == 200
    assert b"Yes, it is a holiday" in page.body
    assert repo.trip_answers("emp-1") == {}, "a mail scanner opening the link records nothing"

    done = client.http.post(
        f"/v1/answers/{token}", headers={"Content-Type": "application/x-www-form-urlencoded"}, body=""
    )
    assert done.status_code == 200
    assert b"as <strong>a holiday</strong>" in done.body
    assert repo.trip_answers("emp-1") == {"trp_1": Purpose.HOLIDAY}
    (stored,) = repo.trips_of("emp-1")
    assert (stored.trip.purpose, stored.assessment.status.value) == (Purpose.HOLIDAY, "not_required")
    assert repo.trips_lacking_certificate(date(2027, 3, 1), date(2027, 3, 31)) == []
    today = datetime.now(UTC).date()
    entries, _ = repo.audit_of_day(today, 50)
    assert [(e.actor, e.action, e.resource, e.fields) for e in entries] == [
        ("traveler:emp-1", "trip.answer", "trip/trp_1", ("purpose",))
    ]


@pytest.mark.parametrize(
    ("token", "status", "text"),
    [
        ("garbage", 400, b"incomplete"),
        (_token(expires=datetime(2020, 1, 1, tzinfo=UTC)), 410, b"expired on 2020-01-01"),
        (_token(trip_id="trp_gone"), 404, b"no longer planned"),
    ],
)
def test_bad_links_get_a_friendly_page(client: KeyedClient, token: str, status: int, text: bytes) -> None:
    page = client.http.get(f"/v1/answers/{token}")
    assert page.status_code == status
    assert page.headers["Content-Type"].startswith("text/html")
    assert text in page.body
