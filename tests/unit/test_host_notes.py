"""Host-country notes: every note is cited and translated, and the checklist gets the right ones."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from chalicelib.countries import is_country_code
from chalicelib.models import Language
from chalicelib.rules import host_notes
from chalicelib.rules.host_notes import HostNotesError, load_host_notes, notes_for, parse_host_notes

ROOT = Path(__file__).resolve().parents[2]
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-ZÄÖÜ])")
TODAY = date(2027, 1, 15)


def _note(**changes: Any) -> dict[str, Any]:
    note: dict[str, Any] = {
        "id": "FR.example",
        "country": "FR",
        "applies_from": None,
        "applies_until": None,
        "text": {"en": "An English note for travelers.", "de": "Ein deutscher Hinweis für Reisende."},
        "activities": ["posting"],
        "citation": {"title": "Official page", "url": "https://example.gouv.fr/page"},
        "last_reviewed_on": "2026-11-25",
    }
    note.update(changes)
    return note


def _file(*notes: dict[str, Any]) -> str:
    return json.dumps({"notes": list(notes)})


def test_packaged_notes_cover_at_least_eight_host_countries() -> None:
    assert len({note.country for note in load_host_notes().notes}) >= 8


def test_every_note_is_translated_cited_short_and_well_formed() -> None:
    notes = load_host_notes().notes
    assert len({note.id for note in notes}) == len(notes)
    for note in notes:
        assert is_country_code(note.country), note.id
        assert note.country.isupper(), note.id
        assert note.citation.url.startswith("https://"), note.id
        assert note.text.en.strip(), note.id
        assert note.text.de.strip(), note.id
        assert note.text.en != note.text.de, f"{note.id}: German text is a copy of the English one"
        for text in (note.text.en, note.text.de):
            assert len(SENTENCE_END.split(text.strip())) <= 2, f"{note.id}: more than two sentences"
        if note.applies_from and note.applies_until:
            assert note.applies_from <= note.applies_until, note.id


def test_notes_for_returns_only_that_country_in_file_order() -> None:
    france = [n for n in load_host_notes().notes if n.country == "FR"]
    views = notes_for("FR", TODAY, Language.EN)
    assert [v.text for v in views] == [n.text.en for n in france]
    assert [v.source_url for v in views] == [n.citation.url for n in france]
    assert [v.source_title for v in views] == [n.citation.title for n in france]
    assert {v.text for v in notes_for("AT", TODAY, Language.EN)}.isdisjoint(v.text for v in views)


def test_notes_for_speaks_the_travelers_language() -> None:
    german = notes_for("NL", TODAY, Language.DE)
    english = notes_for("NL", TODAY, Language.EN)
    assert german
    assert len(german) == len(english)
    assert [v.text for v in german] == [n.text.de for n in load_host_notes().notes if n.country == "NL"]
    assert [v.source_url for v in german] == [v.source_url for v in english]


def test_a_note_starts_to_apply_on_its_first_day() -> None:
    dated = next(n for n in load_host_notes().notes if n.applies_from is not None)
    assert dated.applies_from is not None
    before = notes_for(dated.country, dated.applies_from - timedelta(days=1), Language.EN)
    on = notes_for(dated.country, dated.applies_from, Language.EN)
    assert dated.text.en not in [v.text for v in before]
    assert dated.text.en in [v.text for v in on]


def test_a_note_stops_applying_after_its_last_day(monkeypatch: pytest.MonkeyPatch) -> None:
    data = parse_host_notes(
        _file(
            _note(
                id="FR.old",
                applies_until="2026-12-31",
                text={"en": "Old rule for France.", "de": "Alte Regel für Frankreich."},
            ),
            _note(
                id="FR.new",
                applies_from="2027-01-01",
                text={"en": "New rule for France.", "de": "Neue Regel für Frankreich."},
            ),
        )
    )
    monkeypatch.setattr(host_notes, "load_host_notes", lambda: data)
    assert [v.text for v in notes_for("FR", date(2026, 12, 31), Language.EN)] == ["Old rule for France."]
    assert [v.text for v in notes_for("FR", date(2027, 1, 1), Language.EN)] == ["New rule for France."]


@pytest.mark.parametrize("country", ["XX", "JP", "", "Atlantis"])
def test_a_country_without_notes_gets_none(country: str) -> None:
    assert notes_for(country, TODAY, Language.EN) == []


def test_country_is_read_as_people_type_it() -> None:
    assert notes_for("GB", TODAY, Language.EN)
    assert notes_for(" uk ", TODAY, Language.EN) == notes_for("GB", TODAY, Language.EN)
    assert notes_for("fr", TODAY, Language.EN) == notes_for("FR", TODAY, Language.EN)


def test_activity_keeps_only_the_notes_that_matter_for_that_trip() -> None:
    austria = [n for n in load_host_notes().notes if n.country == "AT"]
    trip = notes_for("AT", TODAY, Language.EN, activity="business_trip")
    assert [v.text for v in trip] == [n.text.en for n in austria if "business_trip" in n.activities]
    assert 0 < len(trip) < len(notes_for("AT", TODAY, Language.EN))


@pytest.mark.parametrize(
    ("notes", "message"),
    [
        pytest.param([_note(typo=1)], "Extra inputs are not permitted", id="unknown key"),
        pytest.param([_note(country="UK", id="UK.x")], "ISO code 'GB'", id="alias instead of ISO code"),
        pytest.param([_note(country="XX", id="XX.x")], "not an ISO 3166-1", id="unknown country"),
        pytest.param(
            [_note(id="DE.example")], "must start with the country code", id="id of another country"
        ),
        pytest.param([_note(text={"en": "An English note for travelers."})], "text.de", id="missing German"),
        pytest.param(
            [_note(citation={"title": "Official page", "url": "http://x.fr"})], "citation.url", id="http"
        ),
        pytest.param(
            [_note(applies_from="2027-02-01", applies_until="2027-01-31")], "before applies_from", id="period"
        ),
        pytest.param([_note(activities=[])], "activities", id="no activity"),
        pytest.param([_note(activities=["holiday"])], "activities", id="unknown activity"),
        pytest.param([_note(), _note()], "used twice", id="duplicate id"),
    ],
)
def test_broken_data_is_rejected_with_the_field_named(notes: list[dict[str, Any]], message: str) -> None:
    with pytest.raises(HostNotesError, match=re.escape(message)):
        parse_host_notes(_file(*notes))


def test_docs_list_every_note_with_its_source() -> None:
    doc = (ROOT / "docs" / "host-notes.md").read_text(encoding="utf-8")
    for note in load_host_notes().notes:
        assert f"`{note.id}`" in doc, note.id
        assert note.citation.url in doc, note.id
