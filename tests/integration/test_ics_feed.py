"""ICS feeds over real HTTP (requests against a local feed server): conditional fetches, errors, limits."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import requests

from chalicelib.connectors.base import ConnectorError, SyncWindow
from chalicelib.connectors.ics_feed import IcsFeedSource, IcsFileSource, retry_after_seconds
from chalicelib.models import Connection, SourceKind
from tests.fakes.ics_server import IcsFeedServer, Scripted

FIXTURES = Path(__file__).parents[1] / "fixtures" / "ics"
TRIPIT = (FIXTURES / "tripit_feed.ics").read_bytes()
WINDOW = SyncWindow(start=date(2027, 1, 1), end=date(2027, 12, 31))


@pytest.fixture
def server() -> Iterator[IcsFeedServer]:
    feed = IcsFeedServer()
    feed.publish(TRIPIT)
    with feed.running():
        yield feed


def _connection(url: str) -> Connection:
    return Connection(
        id="ics-feed-1", employee_id="emp-1", source=SourceKind.ICS, account=url, calendar_id="tripit"
    )


def _source() -> IcsFeedSource:
    return IcsFeedSource(requests.Session(), allow_private_hosts=True)


def test_first_sync_reads_the_whole_feed_and_keeps_etag_last_modified_and_hash(server: IcsFeedServer) -> None:
    result = _source().sync(_connection(server.url), None, WINDOW)

    assert result.full
    assert result.requests == 1
    assert {e.title for e in result.events} >= {"Paris, France, March 2027", "LH1026 FRA to CDG"}
    assert all(e.calendar_id == "tripit" for e in result.events)
    assert result.problems == []
    cursor = json.loads(result.cursor or "")
    assert cursor["etag"] == server.state.etag
    assert cursor["last_modified"] == "Fri, 01 Jan 2027 01:00:00 GMT"
    assert len(cursor["content_sha256"]) == 64
    assert "if-none-match" not in server.state.requests[0]


def test_unchanged_feed_costs_one_conditional_request_and_returns_the_same_cursor(
    server: IcsFeedServer,
) -> None:
    source = _source()
    first = source.sync(_connection(server.url), None, WINDOW)

    again = source.sync(_connection(server.url), first.cursor, WINDOW)

    assert again.unchanged
    assert again.cursor == first.cursor
    assert again.requests == 1
    assert server.request_count == 2
    sent = server.state.requests[1]
    assert sent["if-none-match"] == server.state.etag
    assert sent["if-modified-since"] == "Fri, 01 Jan 2027 01:00:00 GMT"


def test_a_changed_feed_is_returned_whole_with_a_new_cursor(server: IcsFeedServer) -> None:
    source = _source()
    first = source.sync(_connection(server.url), None, WINDOW)
    server.publish(TRIPIT.replace(b"SUMMARY:AF1018 CDG to FRA", b"SUMMARY:AF1418 CDG to FRA"))

    changed = source.sync(_connection(server.url), first.cursor, WINDOW)

    assert changed.full
    assert "AF1418 CDG to FRA" in {e.title for e in changed.events}
    assert changed.cursor != first.cursor
    assert json.loads(changed.cursor or "")["etag"] == server.state.etag


def test_a_host_without_validators_is_unchanged_when_the_body_hash_matches(server: IcsFeedServer) -> None:
    server.state.send_validators = False
    source = _source()
    first = source.sync(_connection(server.url), None, WINDOW)

    again = source.sync(_connection(server.url), first.cursor, WINDOW)

    assert "if-none-match" not in server.state.requests[1]
    assert again.unchanged
    assert again.requests == 1


def test_a_moved_window_fetches_and_expands_again(server: IcsFeedServer) -> None:
    source = _source()
    first = source.sync(_connection(server.url), None, WINDOW)
    later = SyncWindow(start=date(2027, 3, 16), end=date(2028, 3, 15))

    moved = source.sync(_connection(server.url), first.cursor, later)

    assert "if-none-match" not in server.state.requests[1]
    assert moved.full
    assert "LH1026 FRA to CDG" not in {e.title for e in moved.events}  # 15 March is outside now
    assert "AF1018 CDG to FRA" in {e.title for e in moved.events}


def test_a_redirect_within_http_is_followed(server: IcsFeedServer) -> None:
    server.answer_next(Scripted(302, {"Location": server.state.path}))

    result = _source().sync(_connection(server.url), None, WINDOW)

    assert result.full
    assert result.requests == 2
    assert server.state.paths == [server.state.path, server.state.path]


def test_a_redirect_to_another_scheme_is_refused(server: IcsFeedServer) -> None:
    server.answer_next(Scripted(301, {"Location": "file:///etc/passwd"}))

    with pytest.raises(ConnectorError) as caught:
        _source().sync(_connection(server.url), None, WINDOW)

    assert caught.value.permanent
    assert "non-HTTP" in caught.value.reason
    assert server.request_count == 1


def test_endless_redirects_stop(server: IcsFeedServer) -> None:
    server.answer_next(*[Scripted(302, {"Location": "/again"}) for _ in range(10)])

    with pytest.raises(ConnectorError, match="redirects more than 3 times"):
        IcsFeedSource(max_redirects=3, allow_private_hosts=True).sync(_connection(server.url), None, WINDOW)

    assert server.request_count == 4


@pytest.mark.parametrize("status", [404, 410, 401])
def test_a_gone_or_revoked_feed_is_a_permanent_error(server: IcsFeedServer, status: int) -> None:
    server.answer_next(Scripted(status, {"Content-Type": "text/plain"}, b"gone"))

    with pytest.raises(ConnectorError) as caught:
        _source().sync(_connection(server.url), None, WINDOW)

    assert caught.value.permanent
    assert str(status) in caught.value.reason


@pytest.mark.parametrize(
    ("status", "retry_after", "expected"), [(429, "120", 120.0), (503, "7", 7.0), (500, None, None)]
)
def test_throttling_and_server_errors_are_retryable_with_retry_after(
    server: IcsFeedServer, status: int, retry_after: str | None, expected: float | None
) -> None:
    headers = {"Retry-After": retry_after} if retry_after else {}
    server.answer_next(Scripted(status, headers, b"busy"))

    with pytest.raises(ConnectorError) as caught:
        _source().sync(_connection(server.url), None, WINDOW)

    assert not caught.value.permanent
    assert caught.value.retry_after == expected


def test_retry_after_as_an_http_date() -> None:
    now = datetime(2027, 1, 1, 12, 0, tzinfo=UTC)

    assert retry_after_seconds("Fri, 01 Jan 2027 12:01:30 GMT", now=now) == 90.0
    assert retry_after_seconds("Fri, 01 Jan 2027 11:00:00 GMT", now=now) == 0.0
    assert retry_after_seconds("soon", now=now) is None


def test_an_html_page_answered_with_200_is_an_error_not_an_empty_calendar(server: IcsFeedServer) -> None:
    server.answer_next(
        Scripted(200, {"Content-Type": "text/html"}, b"<html><body>Please log in</body></html>")
    )

    with pytest.raises(ConnectorError, match="did not return iCalendar data"):
        _source().sync(_connection(server.url), None, WINDOW)


def test_a_feed_larger_than_the_cap_is_refused(server: IcsFeedServer) -> None:
    with pytest.raises(ConnectorError, match="larger than") as caught:
        IcsFeedSource(max_bytes=1024, allow_private_hosts=True).sync(_connection(server.url), None, WINDOW)

    assert caught.value.permanent


def test_a_feed_that_does_not_answer_in_time_is_a_retryable_error(server: IcsFeedServer) -> None:
    server.state.hold = threading.Event()
    try:
        with pytest.raises(ConnectorError, match="timed out") as caught:
            IcsFeedSource(read_timeout=0.2, allow_private_hosts=True).sync(
                _connection(server.url), None, WINDOW
            )
    finally:
        server.state.hold.set()

    assert not caught.value.permanent


def test_connection_refused_and_tls_errors_are_retryable(server: IcsFeedServer) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]

    with pytest.raises(ConnectorError, match="could not be reached") as refused:
        _source().sync(_connection(f"http://127.0.0.1:{closed_port}/feed.ics"), None, WINDOW)
    with pytest.raises(ConnectorError, match="TLS") as tls:  # https to a plain-HTTP server
        _source().sync(_connection(server.url.replace("http://", "https://")), None, WINDOW)

    assert not refused.value.permanent
    assert not tls.value.permanent


def test_webcal_addresses_are_fetched_over_https(server: IcsFeedServer) -> None:
    webcal = server.url.replace("http://", "webcal://")

    with pytest.raises(ConnectorError, match="TLS"):  # proof it spoke TLS to our plain-HTTP server
        _source().sync(_connection(webcal), None, WINDOW)


def test_only_http_and_webcal_addresses_are_feeds() -> None:
    with pytest.raises(ConnectorError, match="not an http") as caught:
        _source().sync(_connection("ftp://example.com/cal.ics"), None, WINDOW)

    assert caught.value.permanent


def test_a_stored_file_is_reread_only_when_its_content_changes(tmp_path: Path) -> None:
    path = tmp_path / "anna.ics"
    path.write_bytes(TRIPIT)
    connection = Connection(id="file-1", employee_id="emp-1", source=SourceKind.ICS, account=str(path))
    source = IcsFileSource()

    first = source.sync(connection, None, WINDOW)
    same = source.sync(connection, first.cursor, WINDOW)
    path.write_bytes(TRIPIT.replace(b"LH1026", b"LH1028"))
    changed = source.sync(connection, same.cursor, WINDOW)

    assert first.full
    assert len(first.events) == 7
    assert same.unchanged
    assert same.requests == 0
    assert changed.full
    assert "LH1028 FRA to CDG" in {e.title for e in changed.events}


def test_a_missing_file_is_a_permanent_error(tmp_path: Path) -> None:
    connection = Connection(
        id="file-2", employee_id="emp-1", source=SourceKind.ICS, account=str(tmp_path / "nope.ics")
    )

    with pytest.raises(ConnectorError) as caught:
        IcsFileSource().sync(connection, None, WINDOW)

    assert caught.value.permanent


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:9/cal.ics", "http://169.254.169.254/latest/meta-data", "https://10.1.2.3/a.ics"]
)
def test_a_feed_on_an_internal_address_is_refused_before_any_request(url: str) -> None:
    with pytest.raises(ConnectorError, match="internal address") as err:
        IcsFeedSource().sync(_connection(url), None, WINDOW)
    assert err.value.permanent
