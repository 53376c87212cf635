"""Google credentials, token refresh, rate limits and failures, through the real client libraries.

What a user relies on: the service account acts as exactly the employee it reads (the JWT's ``sub``)
with the read-only scope; expired access tokens are replaced without anyone noticing; throttling is
waited out as Google asks; a missing domain-wide delegation stops with a message an admin can act on;
and the private key never shows up in an error or a log line.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from datetime import date
from typing import Any

import boto3
import pytest
from moto import mock_aws

from chalicelib.connectors.base import ConnectorError, SyncWindow
from chalicelib.connectors.google import GoogleCalendarSource
from chalicelib.connectors.google_auth import (
    CALENDAR_SCOPE,
    GoogleServices,
    ServiceAccountKey,
    load_service_account,
)
from chalicelib.models import Connection, SourceKind
from tests.fakes.google_server import FakeGoogle, new_service_account, serve

ANNA = "anna.schmidt@example.com"
RAVI = "ravi.iyer@example.com"
WINDOW = SyncWindow(date(2026, 12, 16), date(2028, 1, 15))


def _connection(user: str) -> Connection:
    employee = user.split("@", maxsplit=1)[0]
    return Connection(id=f"google:{user}", employee_id=employee, source=SourceKind.GOOGLE, account=user)


@pytest.fixture
def fake() -> Iterator[FakeGoogle]:
    with serve() as running:
        for user in (ANNA, RAVI):
            running.add_user(user)
            running.put_event(
                user,
                {
                    "summary": "Workshop Lisbon",
                    "location": "Lisbon",
                    "start": {"date": "2027-03-01"},
                    "end": {"date": "2027-03-03"},
                },
            )
        yield running


@pytest.fixture
def account(fake: FakeGoogle) -> dict[str, Any]:
    info, public_pem = new_service_account(fake.token_uri)
    fake.register_service_account(info, public_pem)
    return info


@pytest.fixture
def services(fake: FakeGoogle, account: dict[str, Any]) -> GoogleServices:
    return GoogleServices(ServiceAccountKey.model_validate(account), api_endpoint=fake.api_endpoint)


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def source(services: GoogleServices, sleeps: list[float]) -> GoogleCalendarSource:
    return GoogleCalendarSource(services, sleep=sleeps.append)


def test_each_user_is_impersonated_with_the_read_only_scope(
    fake: FakeGoogle, source: GoogleCalendarSource
) -> None:
    anna = source.sync(_connection(ANNA), None, WINDOW)
    ravi = source.sync(_connection(RAVI), None, WINDOW)

    assert fake.issued_to == [ANNA, RAVI]  # the fake verified signature, sub and scope of each JWT
    assert {tok[1] for tok in fake.tokens.values()} == {CALENDAR_SCOPE}
    assert [c.user for c in fake.api_requests()] == [ANNA, RAVI]
    assert anna.events[0].uid != ravi.events[0].uid


def test_a_short_lived_token_is_replaced_before_the_next_call(
    fake: FakeGoogle, source: GoogleCalendarSource
) -> None:
    fake.token_ttl = 60  # shorter than google-auth's refresh margin: stale by the next call
    first = source.sync(_connection(ANNA), None, WINDOW)

    second = source.sync(_connection(ANNA), first.cursor, WINDOW)

    assert second.unchanged
    assert len(fake.token_requests()) == 2
    tokens = {c.user for c in fake.api_requests()}
    assert tokens == {ANNA}


def test_a_token_that_expired_at_google_is_refreshed_and_the_call_repeated(
    fake: FakeGoogle, source: GoogleCalendarSource
) -> None:
    first = source.sync(_connection(ANNA), None, WINDOW)
    fake.expire_access_tokens()

    second = source.sync(_connection(ANNA), first.cursor, WINDOW)

    assert second.unchanged
    assert len(fake.token_requests()) == 2
    assert [r.path for r in fake.requests[-3:]] == [  # 401, new token, same call again
        "/calendar/v3/calendars/primary/events",
        "/token",
        "/calendar/v3/calendars/primary/events",
    ]


def test_429_waits_as_long_as_retry_after_says(
    fake: FakeGoogle, source: GoogleCalendarSource, sleeps: list[float]
) -> None:
    fake.fail_next(429, retry_after="7")

    result = source.sync(_connection(ANNA), None, WINDOW)

    assert sleeps == [7.0]
    assert result.requests == 2
    assert len(result.events) == 1


def test_403_rate_limit_and_5xx_are_retried_with_growing_waits(
    fake: FakeGoogle, source: GoogleCalendarSource, sleeps: list[float]
) -> None:
    fake.fail_next(403, reason="userRateLimitExceeded")
    fake.fail_next(503, reason="backendError", times=2)

    result = source.sync(_connection(ANNA), None, WINDOW)

    assert sleeps == [1.0, 2.0, 4.0]
    assert len(result.events) == 1


def test_retries_are_bounded_and_the_caller_is_told_when_to_come_back(
    fake: FakeGoogle, source: GoogleCalendarSource, sleeps: list[float]
) -> None:
    fake.fail_next(500, reason="backendError", times=5)

    with pytest.raises(ConnectorError) as caught:
        source.sync(_connection(ANNA), None, WINDOW)

    assert len(fake.api_requests()) == 5
    assert sleeps == [1.0, 2.0, 4.0, 8.0]
    assert not caught.value.permanent
    assert caught.value.retry_after == 16.0


def test_a_long_retry_after_is_handed_back_instead_of_blocking(
    fake: FakeGoogle, source: GoogleCalendarSource, sleeps: list[float]
) -> None:
    fake.fail_next(429, retry_after="600")

    with pytest.raises(ConnectorError) as caught:
        source.sync(_connection(ANNA), None, WINDOW)

    assert sleeps == []
    assert caught.value.retry_after == 600.0
    assert not caught.value.permanent


def test_a_403_that_is_not_a_rate_limit_is_permanent(
    fake: FakeGoogle, source: GoogleCalendarSource, sleeps: list[float]
) -> None:
    fake.fail_next(403, reason="forbidden")

    with pytest.raises(ConnectorError) as caught:
        source.sync(_connection(ANNA), None, WINDOW)

    assert caught.value.permanent
    assert "forbidden" in caught.value.reason
    assert sleeps == []


def test_missing_domain_wide_delegation_tells_the_admin_which_scope_to_grant(
    fake: FakeGoogle, account: dict[str, Any], source: GoogleCalendarSource, caplog: pytest.LogCaptureFixture
) -> None:
    fake.delegation.clear()

    with caplog.at_level(logging.DEBUG), pytest.raises(ConnectorError) as caught:
        source.sync(_connection(ANNA), None, WINDOW)

    assert caught.value.permanent
    assert "https://www.googleapis.com/auth/calendar.readonly" in caught.value.reason
    assert account["client_id"] in caught.value.reason
    assert "Domain-wide delegation" in caught.value.reason
    assert fake.api_requests() == []
    key_body = account["private_key"].splitlines()[1]
    assert key_body not in str(caught.value)
    assert key_body not in caplog.text


def test_a_user_outside_the_domain_is_a_permanent_error(source: GoogleCalendarSource) -> None:
    with pytest.raises(ConnectorError) as caught:
        source.sync(_connection("someone@gmail.com"), None, WINDOW)

    assert caught.value.permanent
    assert "someone@gmail.com" in caught.value.reason
    assert "Invalid email or User ID" in caught.value.reason


def test_an_unreachable_google_is_retried_then_reported(account: dict[str, Any], sleeps: list[float]) -> None:
    with serve() as gone:
        endpoint = gone.api_endpoint
    services = GoogleServices(
        ServiceAccountKey.model_validate({**account, "token_uri": f"{endpoint}token"}),
        api_endpoint=endpoint,
        timeout=2,
    )
    source = GoogleCalendarSource(services, max_attempts=2, sleep=sleeps.append)

    with pytest.raises(ConnectorError) as caught:
        source.sync(_connection(ANNA), None, WINDOW)

    assert not caught.value.permanent
    assert caught.value.retry_after is not None


def test_each_thread_gets_its_own_service(services: GoogleServices) -> None:
    seen: list[Any] = []
    worker = threading.Thread(target=lambda: seen.append(services(ANNA)))
    worker.start()
    worker.join()

    assert services(ANNA) is services(ANNA)
    assert seen[0] is not services(ANNA)


def test_the_service_account_is_read_from_secrets_manager(account: dict[str, Any]) -> None:
    with mock_aws():
        secrets = boto3.client("secretsmanager", region_name="eu-central-1")
        secrets.create_secret(Name="coverwatch/google", SecretString=json.dumps(account))
        secrets.create_secret(Name="coverwatch/garbled", SecretString='{"type": "service_account"}')

        key = load_service_account(secrets, "coverwatch/google")
        with pytest.raises(ConnectorError) as missing:
            load_service_account(secrets, "coverwatch/nothing")
        with pytest.raises(ConnectorError) as garbled:
            load_service_account(secrets, "coverwatch/garbled")

    assert key.client_email == account["client_email"]
    assert account["private_key"] not in repr(key)  # pydantic SecretStr hides it
    assert missing.value.permanent
    assert "ResourceNotFoundException" in missing.value.reason
    assert garbled.value.permanent
    assert "private_key" in garbled.value.reason
