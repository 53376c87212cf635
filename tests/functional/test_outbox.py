"""Exactly once under failure: a crash after the claim, SES throttling and errors, duplicate SQS delivery,
and HR's chat channel. SES is moto's (we read what it delivered); the chat is a local webhook server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from chalicelib import bootstrap
from chalicelib.alerts.chat import WebhookNotifier
from chalicelib.alerts.compose import AlertFacts, build_alert
from chalicelib.alerts.notifier import (
    Channels,
    Notifier,
    OutboxNotifier,
    RetryingNotifier,
    RetryPolicy,
    SesNotifier,
)
from chalicelib.alerts.outbox import LEASE, MAX_RUNS, flush_outbox, send_once
from chalicelib.bootstrap import Settings
from chalicelib.jobs import SyncJob
from chalicelib.models import Alert, AlertKind, Connection, SourceKind
from chalicelib.scan import ScanDeps
from chalicelib.worker import process_messages
from tests.builders import assessment, employee, paris_meeting, trip
from tests.fakes.loopback import Reply, serving
from tests.fakes.memory_source import MemorySource

NOON = datetime(2027, 1, 15, 12, tzinfo=UTC)


def _alert(start: date = date(2027, 3, 3)) -> Alert:
    return build_alert(AlertFacts(employee(), trip(start), assessment()), "hr@example.com")


def _ses_sent(settings: Settings) -> list[str]:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses import ses_backends

    return [m.raw_data for m in ses_backends[DEFAULT_ACCOUNT_ID][settings.region].sent_messages]


def _ses(settings: Settings) -> SesNotifier:
    return SesNotifier(bootstrap.aws_client("ses", settings), settings.sender)


class _Crash(BaseException):
    """The Lambda being killed mid-send: not an Exception, so nothing in our code catches it."""


class _DiesOnce:
    def __init__(self, inner: Notifier) -> None:
        self.inner, self.died = inner, False

    def send(self, alert: Alert) -> str:
        if not self.died:
            self.died = True
            raise _Crash
        return self.inner.send(alert)


class _FailsFirst:
    """Raises ``error`` on the first ``times`` calls, then delivers through ``inner``."""

    def __init__(self, inner: Notifier, error: Exception, times: int) -> None:
        self.inner, self.error, self.left = inner, error, times

    def send(self, alert: Alert) -> str:
        if self.left > 0:
            self.left -= 1
            raise self.error
        return self.inner.send(alert)


def _ses_error(code: str, status: int) -> ClientError:
    response: Any = {"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": status}}
    return ClientError(response, "SendRawEmail")


def _throttled() -> ClientError:
    return _ses_error("Throttling", 400)


def _rejected() -> ClientError:
    return _ses_error("MessageRejected", 400)


def _failed_for_good(settings: Settings, alert: Alert) -> datetime:
    """Send ``alert`` to a rejecting SES and sweep daily until it is marked failed; the last sweep's time."""
    repo = bootstrap.repository(settings)
    rejecting = _FailsFirst(_ses(settings), _rejected(), times=99)
    send_once(alert, repo, rejecting, NOON.date(), now=NOON)
    moment = NOON
    while not repo.failed_messages():
        moment += timedelta(days=1)
        flush_outbox(repo, rejecting, moment)
    return moment


def _item(settings: Settings, alert: Alert) -> dict[str, dict[str, str]]:
    item = bootstrap.aws_client("dynamodb", settings).get_item(
        TableName=settings.table_name,
        Key={"PK": {"S": f"EMP#{alert.employee_id}"}, "SK": {"S": f"ALERT#{alert.key}"}},
    )["Item"]
    return dict(item)


def test_a_crash_between_claim_and_send_is_recovered_once_the_lease_runs_out(mocked_aws: Settings) -> None:
    repo, alert = bootstrap.repository(mocked_aws), _alert()
    channel = _DiesOnce(_ses(mocked_aws))
    with pytest.raises(_Crash):
        send_once(alert, repo, channel, NOON.date(), now=NOON)
    assert _ses_sent(mocked_aws) == []

    # the job is retried at once (SQS redelivery): the message is claimed and may be in flight, so nothing
    assert send_once(alert, repo, channel, NOON.date(), now=NOON + timedelta(minutes=1)) is False
    assert flush_outbox(repo, channel, NOON + timedelta(minutes=1)).delivered == 0
    assert _ses_sent(mocked_aws) == []

    # once the lease has run out, the outbox sweep delivers it, exactly once
    later = NOON + LEASE + timedelta(seconds=1)
    assert flush_outbox(repo, channel, later).delivered == 1
    assert flush_outbox(repo, channel, later + LEASE * 2).delivered == 0
    assert send_once(alert, repo, channel, later.date(), now=later + LEASE * 2) is False
    sent = _ses_sent(mocked_aws)
    assert len(sent) == 1
    assert "Anna Schmidt in France" in sent[0]


def test_a_delivered_message_keeps_only_its_key_and_message_id(mocked_aws: Settings) -> None:
    repo, alert = bootstrap.repository(mocked_aws), _alert()
    assert send_once(alert, repo, _ses(mocked_aws), NOON.date(), now=NOON)
    item = _item(mocked_aws, alert)
    assert item["state"]["S"] == "sent"
    assert "body" not in item
    assert "GSI1PK" not in item
    assert item["message_id"]["S"]


def test_ses_throttling_is_retried_with_growing_waits_in_the_same_run(mocked_aws: Settings) -> None:
    waits: list[float] = []
    policy = RetryPolicy(attempts=4, base_delay=0.5, sleep=waits.append)
    channel = RetryingNotifier(_FailsFirst(_ses(mocked_aws), _throttled(), times=2), policy)
    assert send_once(_alert(), bootstrap.repository(mocked_aws), channel, NOON.date(), now=NOON) is True
    assert len(_ses_sent(mocked_aws)) == 1
    assert len(waits) == 2
    assert waits[0] < waits[1]


def test_a_rejected_message_is_not_hammered_but_retried_later_then_marked_failed(
    mocked_aws: Settings,
) -> None:
    repo, alert = bootstrap.repository(mocked_aws), _alert()
    waits: list[float] = []
    channel = RetryingNotifier(
        _FailsFirst(_ses(mocked_aws), _rejected(), times=99), RetryPolicy(sleep=waits.append)
    )
    assert send_once(alert, repo, channel, NOON.date(), now=NOON) is False
    assert waits == []  # a permanent error is not retried within the run

    moment, runs = NOON, 1
    while repo.failed_messages() == []:
        moment += timedelta(days=1)
        report = flush_outbox(repo, channel, moment)
        assert report.delivered == 0
        runs += report.not_delivered
        assert runs <= MAX_RUNS
    assert runs == MAX_RUNS
    [failed] = repo.failed_messages()
    assert (failed.key, failed.attempts, failed.recipient) == (alert.key, MAX_RUNS, "hr@example.com")
    assert "MessageRejected" in failed.last_error
    assert flush_outbox(repo, channel, moment + timedelta(days=30)).not_delivered == 0  # it rests now
    assert _ses_sent(mocked_aws) == []

    # HR fixed the address: put it back, and it goes out once
    fixed = _ses(mocked_aws)
    later = moment + timedelta(days=31)
    assert repo.retry_failed(alert.employee_id, alert.key, later)
    assert flush_outbox(repo, fixed, later).delivered == 1
    assert repo.failed_messages() == []
    assert len(_ses_sent(mocked_aws)) == 1


def test_a_temporary_ses_outage_waits_in_the_outbox_and_goes_out_on_a_later_sweep(
    mocked_aws: Settings,
) -> None:
    repo, alert = bootstrap.repository(mocked_aws), _alert()
    outage = _ses_error("ServiceUnavailable", 503)
    flaky = RetryingNotifier(
        _FailsFirst(_ses(mocked_aws), outage, times=4), RetryPolicy(attempts=4, sleep=lambda _: None)
    )
    assert send_once(alert, repo, flaky, NOON.date(), now=NOON) is False
    assert flush_outbox(repo, flaky, NOON + timedelta(minutes=1)).delivered == 0  # not due yet
    assert flush_outbox(repo, flaky, NOON + timedelta(hours=1)).delivered == 1
    assert len(_ses_sent(mocked_aws)) == 1


def test_a_duplicate_sqs_delivery_sends_nothing_twice(mocked_aws: Settings, tmp_path: Path) -> None:
    repo = bootstrap.repository(mocked_aws)
    repo.put_employee(employee(home="DE"))
    repo.put_connection(
        Connection(id="graph:anna", employee_id="emp-1", source=SourceKind.GRAPH, account="anna@example.com")
    )
    source = MemorySource()
    source.put(paris_meeting(date(2027, 3, 3), "evt-1", SourceKind.GRAPH))
    source.put(paris_meeting(date(2027, 4, 7), "evt-2", SourceKind.GRAPH))
    deps = ScanDeps(
        repo=repo, notifier=_ses(mocked_aws), hr_email="hr@example.com", decided_on=date(2027, 1, 15)
    )
    job = SyncJob(connection_id="graph:anna").model_dump_json()

    # the same message twice in one batch, then once more in a later batch
    first = process_messages([("m1", job), ("m1-again", job)], deps, {SourceKind.GRAPH: source})
    again = process_messages([("m1-later", job)], deps, {SourceKind.GRAPH: source})
    assert first.failed == {}
    assert again.failed == {}
    sent = _ses_sent(mocked_aws)
    assert len(sent) == 2
    assert sum("2027-03-03" in m for m in sent) == 1
    assert sum("2027-04-07" in m for m in sent) == 1


# HR's chat channel ----------------------------------------------------------------------------------


@dataclass
class _FakeChat:
    """A Slack- or Teams-like incoming webhook: records posts, answers from a script, then ``ok``."""

    script: list[Reply] = field(default_factory=list)
    posts: list[dict[str, object]] = field(default_factory=list)
    ok: Reply = (200, {"Content-Type": "text/plain"}, b"ok")

    def handle(self, method: str, raw_path: str, headers: dict[str, str], body: bytes) -> Reply:
        assert method == "POST"
        assert headers["content-type"] == "application/json"
        self.posts.append(json.loads(body))
        return self.script.pop(0) if self.script else self.ok


@pytest.fixture
def chat() -> Iterator[tuple[_FakeChat, str]]:
    fake = _FakeChat()
    with serving(fake) as server:
        yield fake, f"http://127.0.0.1:{server.port}/services/T000/B000/secret"


def test_hr_messages_also_reach_the_chat_after_a_429_and_travelers_mail_does_not(
    mocked_aws: Settings, chat: tuple[_FakeChat, str]
) -> None:
    fake, url = chat
    fake.script.append((429, {"Retry-After": "2"}, b"rate_limited"))
    waits: list[float] = []
    channels = Channels(
        _ses(mocked_aws), RetryingNotifier(WebhookNotifier(url), RetryPolicy(sleep=waits.append))
    )
    repo = bootstrap.repository(mocked_aws)
    assert send_once(_alert(), repo, channels, NOON.date(), now=NOON)
    assert waits == [2.0]  # the Retry-After was honoured
    assert len(fake.posts) == 2  # the throttled post and the one that got through
    text = json.dumps(fake.posts[-1])
    assert "A1 missing: Anna Schmidt in France, 2027-03-03" in text
    assert "Client workshop" not in text
    assert "Client meeting" not in text

    checklist = _alert(date(2027, 5, 5)).model_copy(
        update={"key": "checklist:x", "kind": AlertKind.TRAVELER_CHECKLIST, "recipient": "anna@example.com"}
    )
    assert send_once(checklist, repo, channels, NOON.date(), now=NOON)
    assert len(fake.posts) == 2
    assert len(_ses_sent(mocked_aws)) == 2


def test_a_teams_webhook_gets_an_adaptive_card(chat: tuple[_FakeChat, str]) -> None:
    fake, url = chat
    fake.ok = (202, {}, b"")
    WebhookNotifier(url.replace("127.0.0.1", "localhost"), kind=None).send(_alert())
    [post] = fake.posts
    attachments = post["attachments"]
    assert isinstance(attachments, list)
    assert attachments[0]["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert attachments[0]["content"]["type"] == "AdaptiveCard"


def test_a_revoked_chat_webhook_does_not_resend_the_e_mail(
    mocked_aws: Settings, chat: tuple[_FakeChat, str]
) -> None:
    fake, url = chat
    fake.script += [(404, {}, b"no_service"), (404, {}, b"no_service")]
    channels = Channels(_ses(mocked_aws), WebhookNotifier(url))
    repo, alert = bootstrap.repository(mocked_aws), _alert()
    assert send_once(alert, repo, channels, NOON.date(), now=NOON) is False
    assert len(_ses_sent(mocked_aws)) == 1  # the e-mail went out; the chat post is pending
    assert flush_outbox(repo, channels, NOON + timedelta(hours=2)).not_delivered == 1
    assert flush_outbox(repo, channels, NOON + timedelta(hours=5)).delivered == 1  # chat fixed
    assert len(_ses_sent(mocked_aws)) == 1
    assert len(fake.posts) == 3


def test_the_local_outbox_folder_is_one_channel_like_any_other(mocked_aws: Settings, tmp_path: Path) -> None:
    repo = bootstrap.repository(mocked_aws)
    folder = OutboxNotifier(tmp_path / "out", mocked_aws.sender)
    assert send_once(_alert(), repo, folder, NOON.date(), now=NOON)
    assert send_once(_alert(), repo, folder, NOON.date(), now=NOON + LEASE * 3) is False
    assert len(list((tmp_path / "out").glob("*.eml"))) == 1


def test_operators_see_failed_messages_and_put_one_back_from_the_cli(mocked_aws: Settings) -> None:
    import io

    from coverwatch.cli import main

    alert = _alert()
    _failed_for_good(mocked_aws, alert)

    listing = io.StringIO()
    assert main(["outbox"], out=listing) == 0
    assert "0 message(s) waiting for a retry, 1 failed for good." in listing.getvalue()
    assert f"coverwatch outbox --retry emp-1 '{alert.key}'" in listing.getvalue()

    done, err = io.StringIO(), io.StringIO()
    assert main(["outbox", "--retry", "emp-1", alert.key], out=done, err=err) == 0
    assert "delivered now: 1" in done.getvalue()
    assert len(_ses_sent(mocked_aws)) == 1
    assert main(["outbox", "--retry", "emp-1", alert.key], out=done, err=err) == 1
    assert "no failed message" in err.getvalue()


def test_a_message_that_failed_for_good_is_in_hr_s_next_digest(mocked_aws: Settings, tmp_path: Path) -> None:
    from chalicelib.digest import send_digest

    repo, alert = bootstrap.repository(mocked_aws), _alert()
    moment = _failed_for_good(mocked_aws, alert)

    folder = tmp_path / "digest"
    deps = ScanDeps(
        repo=repo,
        notifier=OutboxNotifier(folder, mocked_aws.sender),
        hr_email="hr@example.com",
        decided_on=moment.date(),
    )
    assert send_digest(deps) is True  # nothing else is new: the failure alone is news
    [eml] = folder.glob("*.eml")
    text = eml.read_text()
    assert "Messages that could not be delivered (1)" in text
    assert "MessageRejected" in text


def test_mail_goes_out_with_the_stack_s_ses_configuration_set(mocked_aws: Settings) -> None:
    ses = bootstrap.aws_client("ses", mocked_aws)
    ses.create_configuration_set(ConfigurationSet={"Name": "coverwatch-mail"})
    notifier = SesNotifier(ses, mocked_aws.sender, configuration_set="coverwatch-mail")
    assert send_once(_alert(), bootstrap.repository(mocked_aws), notifier, NOON.date(), now=NOON)
    assert len(_ses_sent(mocked_aws)) == 1
    assert (
        bootstrap.settings_from_env(
            {"COVERWATCH_SES_CONFIGURATION_SET": "coverwatch-mail"}
        ).ses_configuration_set
        == "coverwatch-mail"
    )


def test_a_key_sent_before_costs_one_read_not_a_refused_write_of_the_whole_message(
    mocked_aws: Settings,
) -> None:
    repo, alert = bootstrap.repository(mocked_aws), _alert()
    assert send_once(alert, repo, _ses(mocked_aws), NOON.date(), now=NOON)
    calls: list[str] = []
    client = repo._db  # type: ignore[attr-defined]
    client.meta.events.register("before-call.dynamodb", lambda model, **_: calls.append(model.name))
    assert send_once(alert, repo, _ses(mocked_aws), NOON.date(), now=NOON + LEASE * 3) is False
    assert calls == ["GetItem"]
