"""HR alerts: what the e-mail says, where it lands, and that it goes out exactly once."""

from __future__ import annotations

from datetime import date
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest

from chalicelib import bootstrap
from chalicelib.alerts.compose import AlertFacts, alert_key, build_alert, build_reminder, build_resolved
from chalicelib.alerts.notifier import OutboxNotifier
from chalicelib.alerts.outbox import send_once
from chalicelib.bootstrap import Settings
from chalicelib.models import Alert, AlertKind, Language, Status
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


def _status_alert(status: Status, explanation: str, language: Language = Language.EN) -> Alert:
    decided = assessment(status).model_copy(update={"explanation": explanation})
    return build_alert(AlertFacts(employee(), trip(date(2027, 3, 3)), decided), "hr@x.org", language=language)


def test_each_status_has_its_own_subject_and_tells_hr_what_to_do() -> None:
    required = _alert()
    too_long = _status_alert(Status.EXCEEDS_MAXIMUM, "It runs past the 24-month limit.")
    none = _status_alert(Status.NO_AGREEMENT, "The home country's position (Germany): Ausstrahlung applies.")
    review = _status_alert(Status.NEEDS_REVIEW, "Needs review: the employee is a national of India.")
    subjects = [a.subject for a in (required, too_long, none, review)]
    assert len(set(subjects)) == 4
    assert none.subject == "[coverwatch] No social-security agreement: Anna Schmidt in France, 2027-03-03"
    assert review.subject == "[coverwatch] Review needed: Anna Schmidt in France, 2027-03-03"

    assert "Apply for the A1 by 2027-02-17 at the competent institution in the home country (Germany)." in (
        required.text
    )
    assert "maximum of 24 months: an exception agreement (Art. 16" in too_long.text
    assert "social security applies after the limit" in too_long.text
    assert "It runs past the 24-month limit." in too_long.text
    assert "may apply from the first day of work: check whether the employee must be registered" in none.text
    assert "The home country's position (Germany): Ausstrahlung applies." in none.text
    assert "Apply by" not in none.text, "no deadline is invented where no document exists"
    assert (
        "Why coverwatch could not decide:\nNeeds review: the employee is a national of India." in review.text
    )
    assert "Check the employee's home country, nationalities and country of residence." in review.text


def test_an_overdue_deadline_says_apply_now() -> None:
    late = assessment(decided_on=date(2027, 2, 20))
    alert = build_alert(AlertFacts(employee(), trip(date(2027, 3, 3)), late), "hr@x.org")
    assert "The apply-by date (2027-02-17) has passed: apply for the A1 now" in alert.text


def test_hr_can_read_the_alert_in_german() -> None:
    alert = _status_alert(Status.CERTIFICATE_REQUIRED, "Posting under Art. 12.", Language.DE)
    assert alert.subject == "[coverwatch] A1 fehlt: Anna Schmidt – Frankreich, 03.03.2027"
    assert "Beantragen bis: 17.02.2027" in alert.text
    assert '<html lang="de">' in alert.html
    assert "Client meeting &lt;Paris&gt;" in alert.html


def test_reminders_and_escalations_are_their_own_kind_with_a_banner() -> None:
    facts = AlertFacts(employee(), trip(date(2027, 3, 3)), assessment())
    reminder = build_reminder(facts, "hr@x.org", key="reminder:trp_1:v1:start-3", days_left=3)
    assert (reminder.kind, reminder.key) == (AlertKind.REMINDER, "reminder:trp_1:v1:start-3")
    assert reminder.subject == (
        "[coverwatch] Reminder, 3 days to departure: A1 missing: Anna Schmidt in France, 2027-03-03"
    )
    assert reminder.text.startswith("Reminder: 3 days to departure\n")
    assert "Reminder: 3 days to departure" in reminder.html
    escalation = build_reminder(facts, "boss@x.org", key="escalation:trp_1:v1", days_left=1, escalation=True)
    assert (escalation.kind, escalation.recipient) == (AlertKind.ESCALATION, "boss@x.org")
    assert "ESCALATION, departs in 1 day:" in escalation.subject
    assert escalation.text.startswith("Escalation: departs in 1 day, nothing recorded yet\n")
    german = build_reminder(facts, "hr@x.org", key="k", days_left=1, escalation=True, language=Language.DE)
    assert german.text.startswith("Eskalation: Abreise in 1 Tag, noch nichts erfasst\n")


def test_the_all_clear_says_why_and_notes_a_moved_trip() -> None:
    moved = build_resolved(
        employee(),
        trip(date(2027, 3, 10)),
        "covered",
        "hr@x.org",
        moved_from=(date(2027, 3, 3), date(2027, 3, 3)),
    )
    assert moved.kind is AlertKind.RESOLVED
    assert moved.subject == "[coverwatch] Resolved: Anna Schmidt in France, 2027-03-10"
    assert "because a certificate is now on record for it." in moved.text
    assert "This trip has moved (it was 2027-03-03)" in moved.text
    assert "has moved" in moved.html
    plain = build_resolved(employee(), trip(date(2027, 3, 10)), "cancelled", "hr@x.org", language=Language.DE)
    assert "abgesagt" in plain.text
    assert "verschoben" not in plain.text
    with pytest.raises(ValueError, match="unknown reason"):
        build_resolved(employee(), trip(date(2027, 3, 10)), "because", "hr@x.org")
