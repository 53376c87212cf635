"""The demo path end to end against the embedded moto server over HTTP: store, decisions, e-mails.

Every AWS call here goes through boto3 to a moto server on 127.0.0.1, as in `make demo`.
"""

from __future__ import annotations

from email import message_from_string
from pathlib import Path

import pytest

from chalicelib import bootstrap
from chalicelib.bootstrap import Settings
from coverwatch.demo import run_demo
from coverwatch.examples import load_examples

ROOT = Path(__file__).resolve().parents[2]

# (employee, country, start, end) -> (status, document): what HR must see for the example staff.
EXPECTED = {
    ("emp-anna", "FR", "2027-03-03", "2027-03-03"): ("certificate_required", "A1"),
    ("emp-anna", "US", "2027-04-05", "2027-04-23"): ("certificate_required", "CoC"),
    ("emp-claire", "ES", "2027-04-12", "2027-04-23"): ("not_required", None),
    ("emp-claire", "CH", "2027-05-18", "2027-05-20"): ("covered", "A1"),
    ("emp-ravi", "DE", "2027-03-22", "2027-03-24"): ("certificate_required", "A1"),
    ("emp-ravi", "DK", "2027-06-08", "2027-06-08"): ("needs_review", None),
    ("emp-james", "IE", "2027-03-15", "2027-03-16"): ("certificate_required", "A1"),
    ("emp-emily", "GB", "2027-05-10", "2027-05-14"): ("certificate_required", "CoC"),
    ("emp-emily", "SG", "2027-06-21", "2027-06-25"): ("no_agreement", None),
}
# HR hears of every case it must act on or look at: a certificate to get, no agreement, a review
ALERTED = {k for k, (status, _) in EXPECTED.items() if status not in ("covered", "not_required")}


def _ses_messages(region: str) -> list[str]:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses import ses_backends

    return [m.raw_data for m in ses_backends[DEFAULT_ACCOUNT_ID][region].sent_messages]


def test_the_demo_stores_every_trip_with_its_decision_and_alerts_hr_once(aws_server: Settings) -> None:
    assert aws_server.endpoint_url
    assert aws_server.endpoint_url.startswith("http://127.0.0.1:")
    examples = load_examples(ROOT / "examples")

    first = run_demo(examples, aws_server)

    assert not first.batch.failed
    stored = {
        (s.trip.employee_id, s.trip.country, s.trip.start.isoformat(), s.trip.end.isoformat()): (
            s.assessment.status.value,
            s.assessment.document.value if s.assessment.document else None,
        )
        for _, s in first.trips
    }
    assert stored == EXPECTED
    for _, s in first.trips:
        assert s.trip.evidence, "every trip shows why we believe it"
        if s.assessment.document:
            assert s.assessment.instrument
            assert s.assessment.instrument.source.startswith("http")

    # one e-mail per case for HR, through SES and in the outbox, to the examples' HR address
    mails = [message_from_string(raw) for raw in _ses_messages(aws_server.region)]
    assert len(mails) == len(ALERTED) == sum(r.alerts_sent for r in first.batch.reports)
    assert {m["To"] for m in mails} == {examples.data.hr_email}
    subjects = sorted(str(m["Subject"]) for m in mails)
    assert any("Anna Schmidt in France, 2027-03-03" in s for s in subjects)
    assert any("CoC missing: Emily Carter in United Kingdom" in s for s in subjects)
    assert any(s.startswith("[coverwatch] Review needed: Ravi") and "Denmark" in s for s in subjects)
    assert any(
        s.startswith("[coverwatch] No social-security agreement: Emily Carter in Singapore") for s in subjects
    )
    assert not any("Claire" in s for s in subjects), "a covered trip is not alerted"
    outbox = aws_server.outbox_dir
    assert outbox is not None
    assert len(list(outbox.glob("*.eml"))) == len(ALERTED)
    assert (outbox / "index.html").read_text().count("<a href=") == len(ALERTED)

    # a malformed event in the examples is reported, and the rest of that calendar still counted
    assert any(p.uid for r in first.batch.reports for p in r.problems)

    # the next run: every calendar unchanged, nothing re-read, rewritten or sent twice
    items = _item_count(aws_server)
    second = run_demo(examples, aws_server)
    assert [(s.unchanged, s.event_writes) for s in second.batch.synced] == [(True, 0)] * len(
        examples.data.employees
    )
    assert second.batch.reports == []
    assert _item_count(aws_server) == items
    assert [s.version for _, s in second.trips] == [s.version for _, s in first.trips]
    assert len(_ses_messages(aws_server.region)) == len(ALERTED)
    assert len(list(outbox.glob("*.eml"))) == len(ALERTED)


def test_who_travels_without_a_certificate_is_one_query(aws_server: Settings) -> None:
    run_demo(load_examples(ROOT / "examples"), aws_server)
    repo = bootstrap.repository(aws_server)
    import datetime as dt

    march = repo.trips_lacking_certificate(dt.date(2027, 3, 1), dt.date(2027, 3, 31))
    assert sorted((s.trip.employee_id, s.trip.country) for s in march) == [
        ("emp-anna", "FR"),
        ("emp-james", "IE"),
        ("emp-ravi", "DE"),
    ]


@pytest.mark.parametrize("broken", ["not json", '{"connection_id": "ics-nobody"}', '{"connection_id": ""}'])
def test_a_bad_sync_job_fails_alone(aws_server: Settings, broken: str) -> None:
    from chalicelib.worker import process_messages

    run_demo(load_examples(ROOT / "examples"), aws_server)
    good = '{"connection_id": "ics-emp-anna-anna.schmidt"}'
    result = process_messages(
        [("m1", broken), ("m2", good)], bootstrap.scan_deps(aws_server), bootstrap.sources(aws_server)
    )
    assert list(result.failed) == ["m1"]
    assert result.batch_item_failures() == {"batchItemFailures": [{"itemIdentifier": "m1"}]}
    assert [s.connection_id for s in result.synced] == ["ics-emp-anna-anna.schmidt"]


def _item_count(settings: Settings) -> int:
    client = bootstrap.aws_client("dynamodb", settings)
    return sum(page["Count"] for page in client.get_paginator("scan").paginate(TableName=settings.table_name))
