"""Messages come from templates: every one renders in every language, reads on a phone, and is safe."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime

import jinja2
import pytest

from chalicelib.alerts.checklist import build_checklist, trip_ics
from chalicelib.alerts.render import (
    STRINGS,
    TEMPLATE_NAMES,
    TEMPLATES,
    catalog,
    format_date,
    format_period,
    placeholders,
    render,
)
from chalicelib.countries import country_name
from chalicelib.models import Alert, Employee, Language
from coverwatch.screenshots import samples
from tests.builders import assessment, trip

SAMPLES = {language: samples(language) for language in Language}


def _cases() -> list[tuple[Language, str]]:
    return [(language, name) for language in Language for name in SAMPLES[language]]


def _traveler(name: str = "Lena Hoffmann", language: Language = Language.EN) -> Employee:
    return Employee(
        id="emp-1",
        name=name,
        email="lena@example.com",
        home_country="DE",
        nationalities=("DE",),
        residence_country="DE",
        language=language,
    )


def _checklist(employee: Employee, **kwargs: object) -> Alert:
    return build_checklist(
        employee,
        trip(date(2027, 3, 8), date(2027, 3, 10)),
        assessment(),
        [],
        answer_base_url=None,
        secret=None,
        now=datetime(2027, 3, 1, tzinfo=UTC),
        version=1,
        **kwargs,  # type: ignore[arg-type]
    )


def test_the_samples_cover_every_template_and_each_alert_status() -> None:
    templates = {p.stem for p in TEMPLATES.glob("*.txt")}
    assert templates == set(TEMPLATE_NAMES)
    for language in Language:
        kinds = {alert.kind for alert in SAMPLES[language].values()}
        assert {k.value for k in kinds} == {
            "missing_certificate",
            "reminder",
            "escalation",
            "resolved",
            "traveler_checklist",
            "digest",
        }
    subjects = [a.subject for name, a in SAMPLES[Language.EN].items() if name.startswith("alert-")]
    assert len(set(subjects)) == 4, "each status has its own subject, so HR can filter"


@pytest.mark.parametrize(("language", "name"), _cases())
def test_every_message_is_a_phone_ready_accessible_page(language: Language, name: str) -> None:
    alert = SAMPLES[language][name]
    html = alert.html
    assert html.lower().startswith("<!doctype html>")
    assert f'<html lang="{language.value}">' in html
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert '<meta charset="utf-8">' in html
    assert "max-width:36rem" in html
    assert "<img" not in html.lower()
    assert html.count("<h1") == 1, "one heading names the message for screen readers"
    sizes = [int(px) for px in re.findall(r"font-size:\s*(\d+)px", html)]
    assert sizes
    assert min(sizes) >= 16
    assert "{{" not in html, "no template syntax leaks into a message"
    assert "{{" not in alert.text
    assert alert.text.strip()
    assert "<p" not in alert.text
    assert "&amp;" not in alert.text


def test_the_german_checklist_is_german_with_german_dates_and_calendar_entry() -> None:
    alert = _checklist(_traveler(language=Language.DE))
    assert alert.subject == "Ihre Reise – Frankreich, 08.03.2027 bis 10.03.2027: was Sie mitnehmen sollten"
    for body in (alert.text, alert.html):
        assert "Reiseziel: Frankreich, 08.03.2027 bis 10.03.2027." in body
        assert "keine Krankenversicherung" in body
        assert "2027-03-08" not in body
    (ics,) = alert.attachments
    assert "SUMMARY:Reise – Frankreich: Unterlagen mitnehmen" in ics.text
    assert "DESCRIPTION:Kopie der A1-Bescheinigung" in ics.text
    english = _checklist(_traveler())
    assert "Destination: France, 2027-03-08 to 2027-03-10." in english.text
    assert "SUMMARY:Trip to France: documents to carry" in english.attachments[0].text


def test_host_notes_are_listed_with_their_sources_and_only_web_addresses_become_links() -> None:
    alert = _checklist(
        _traveler(),
        host_notes=(
            ("Register the posting online before work starts.", "SIPSI", "https://www.sipsi.example.fr/"),
            ("Carry your ID card.", "Bad source", "javascript:alert(1)"),
        ),
    )
    assert "Good to know in France" in alert.text
    assert (
        "- Register the posting online before work starts. (Source: SIPSI, https://www.sipsi.example.fr/)"
        in alert.text
    )
    assert '<a href="https://www.sipsi.example.fr/"' in alert.html
    assert 'href="javascript:' not in alert.html
    assert "(Source: Bad source)" in alert.html, "an unsafe address leaves the source as plain text"
    assert "Good to know" not in _checklist(_traveler()).text, "no section without notes"


def test_a_name_with_markup_is_escaped_in_html_and_kept_in_text() -> None:
    alert = _checklist(_traveler(name="<Mallory & Co>"))
    assert "&lt;Mallory &amp; Co&gt;" in alert.html
    assert "<Mallory" not in alert.html
    assert "Hello <Mallory & Co>," in alert.text


def test_a_missing_variable_is_an_error_not_a_blank() -> None:
    with pytest.raises(jinja2.UndefinedError):
        render(
            "resolved", Language.EN, headline="x", trip=trip(date(2027, 3, 8)), reason="covered", moved=None
        )


def test_both_catalogs_have_the_same_keys_and_placeholders() -> None:
    english, german = catalog(Language.EN), catalog(Language.DE)
    assert sorted(english) == sorted(german)
    for key, sentence in english.items():
        assert placeholders(sentence) == placeholders(german[key]), key
    assert sorted(p.stem for p in STRINGS.glob("*.json")) == sorted(lang.value for lang in Language)
    for path in STRINGS.glob("*.json"):
        assert all(isinstance(v, str) and v for v in json.loads(path.read_text("utf-8")).values())


def test_dates_and_country_names_follow_the_language() -> None:
    day = date(2027, 3, 8)
    assert format_date(day, Language.EN) == "2027-03-08"
    assert format_date(day, Language.DE) == "08.03.2027"
    assert format_period(day, day, Language.DE) == "08.03.2027"
    assert format_period(day, date(2027, 3, 9), Language.EN) == "2027-03-08 to 2027-03-09"
    assert country_name("GB") == "United Kingdom"
    assert country_name("GB", Language.DE) == "Vereinigtes Königreich"
    assert country_name("CH", "de") == "Schweiz"
    assert country_name("FR", "xx") == "France", "a language pycountry lacks falls back to English"
    assert country_name("XX", Language.DE) == "XX"


def test_calendar_text_is_escaped_for_ics() -> None:
    stay = trip(date(2027, 3, 8)).model_copy(update={"country": "FM"})  # "Micronesia, Federated States of"
    assert "SUMMARY:Trip to Micronesia\\, Federated States of: documents to carry\r\n" in trip_ics(stay, "k")
    assert "SUMMARY:Reise – Mikronesien\\, Föderierte Staaten von:" in trip_ics(stay, "k", Language.DE)
