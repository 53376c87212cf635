"""HR alerts: what the e-mail says, where it lands, and that it goes out exactly once."""

from __future__ import annotations

from datetime import date
from email import policy
from email.parser import BytesParser
from pathlib import Path

from chalicelib import bootstrap
from chalicelib.alerts.compose import AlertFacts, alert_key, build_alert
from chalicelib.alerts.notifier import OutboxNotifier, send_once
from chalicelib.bootstrap import Settings
from chalicelib.models import Alert, Status
from tests.builders import assessment, employee, trip


def _alert(start: date = date(2027, 3, 3), status: Status = Status.CERTIFICATE_REQUIRED) -> Alert:
    return build_alert(AlertFacts(employee(), trip(start), assessment(status)), "hr@example.com")


def test_the_alert_names_person_place_dates_document_deadline_and_legal_basis() -> None:
    alert = _alert()
    assert alert.subject == "[coverwatch] A1 missing: Anna Schmidt in France, 2027-03-03"
    for expected in (
        "Anna Schmidt (emp-1)",
        "France (FR)",
        "Apply by: 2027-02-17",
        "Regulation (EC) No 883/2004, Art. 12 (in force since 2010-05-01)",
        "https://eur-lex.europa.eu/eli/reg/2004/883/oj",
        "Client meeting <Paris>",
    ):
        assert expected in alert.text
    # the HTML body escapes what came from a calendar
    assert "Client meeting &lt;Paris&gt;" in alert.html
    assert "<Paris>" not in alert.html


def test_a_too_long_posting_gets_its_own_subject() -> None:
    assert "posting too long" in _alert(status=Status.EXCEEDS_MAXIMUM).subject


def test_the_key_is_stable_for_the_same_trip_and_changes_when_it_moves() -> None:
    a = assessment()
    assert alert_key(trip(date(2027, 3, 3)), a) == alert_key(trip(date(2027, 3, 3)), a)
    assert alert_key(trip(date(2027, 3, 3)), a) != alert_key(trip(date(2027, 3, 4)), a)


def test_the_outbox_holds_an_eml_per_alert_and_an_index(tmp_path: Path) -> None:
    outbox = OutboxNotifier(tmp_path / "outbox", "coverwatch@example.com")
    outbox.send(_alert(date(2027, 3, 3)))
    outbox.send(_alert(date(2027, 4, 3)))
    emls = sorted((tmp_path / "outbox").glob("*.eml"))
    assert len(emls) == 2
    msg = BytesParser(policy=policy.default).parsebytes(emls[0].read_bytes())
    assert msg["To"] == "hr@example.com"
    assert "France" in str(msg["Subject"])
    body = msg.get_body(preferencelist=("plain",))
    assert body is not None
    assert "Apply by: 2027-02-17" in body.get_content()
    index = (tmp_path / "outbox" / "index.html").read_text()
    assert index.count("<a href=") == 2
    assert emls[1].name in index


def test_ses_delivers_the_same_message(mocked_aws: Settings) -> None:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses import ses_backends

    repo = bootstrap.repository(mocked_aws)
    notifier = bootstrap.notifier(mocked_aws)
    assert send_once(_alert(), repo, notifier, date(2027, 1, 15))
    sent = ses_backends[DEFAULT_ACCOUNT_ID][mocked_aws.region].sent_messages
    assert len(sent) == 1
    assert "Anna Schmidt in France" in sent[0].raw_data
    assert len(list(mocked_aws.outbox_dir.glob("*.eml"))) == 1  # type: ignore[union-attr]


def test_the_alert_says_where_to_apply_and_which_days_a_certificate_leaves_open() -> None:
    from chalicelib.models import CompetentAuthority, Period

    partial = assessment().model_copy(
        update={
            "authority": CompetentAuthority(
                name="Krankenkasse", how="electronic A1 procedure (DXA1)", source="https://example.org"
            ),
            "document_name": "Portable Document A1",
            "uncovered": (Period(start=date(2027, 3, 5), end=date(2027, 3, 6)),),
        }
    )
    alert = build_alert(AlertFacts(employee(), trip(date(2027, 3, 3), date(2027, 3, 6)), partial), "hr@x.org")
    assert "Apply to: Krankenkasse — electronic A1 procedure (DXA1)" in alert.text
    assert "Document needed: A1 (Portable Document A1)" in alert.text
    assert "Days not covered: 2027-03-05 to 2027-03-06" in alert.text
    # a trip with no certificate at all does not list its own dates again as "not covered"
    whole = partial.model_copy(update={"uncovered": (Period(start=date(2027, 3, 3), end=date(2027, 3, 6)),)})
    assert (
        "Days not covered"
        not in build_alert(
            AlertFacts(employee(), trip(date(2027, 3, 3), date(2027, 3, 6)), whole), "hr@x.org"
        ).text
    )


def test_a_mixed_trip_says_the_traveler_is_asked_to_confirm() -> None:
    mixed = trip(date(2027, 3, 3)).model_copy(update={"confirm": True})
    alert = build_alert(AlertFacts(employee(), mixed, assessment()), "hr@example.com")
    assert "the traveler is asked to confirm" in alert.text
    assert "asked to confirm" not in _alert().text
