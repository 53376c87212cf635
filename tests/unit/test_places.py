"""Place resolution: which country a calendar location or title points at, and why."""

from __future__ import annotations

import pytest

from chalicelib.detection.places import is_non_place, resolve_place


@pytest.mark.parametrize(
    ("text", "country", "rule"),
    [
        ("Frankfurt Airport (FRA)", "DE", "iata.parenthesized"),
        ("LH 422 FRA → BOS", "US", "iata.route_destination"),
        ("FRA-BOS", "US", "iata.route_destination"),
        ("FRA to BOS", "US", "iata.route_destination"),
        ("Flughafen MUC", "DE", "iata.airport_word"),
        ("CDG airport", "FR", "iata.airport_word"),
        ("Barcelona, Spain", "ES", "country.name"),
        ("Marina Bay Sands, Singapore", "SG", "country.name"),
        ("Canary Wharf, London, UK", "GB", "country.alias"),
        ("Client HQ, 12 Rue de la Paix, Paris", "FR", "city"),
        ("Friedrichstraße 68, 10117 Berlin", "DE", "city.postcode"),
        ("Kongresshaus Zürich, Zürich", "CH", "city"),
        ("København", "DK", "city"),
        ("Boston, MA", "US", "city.us_state"),
        ("150 N Riverside Plaza, Chicago, IL 60606", "US", "city.us_state"),
        ("Springfield, IL 62701", "US", "city.us_state"),
        ("Smallville, KS 67524", "US", "us_state"),
    ],
)
def test_rule_and_country(text: str, country: str, rule: str) -> None:
    match = resolve_place(text)

    assert match is not None
    assert (match.country, match.rule) == (country, rule)


@pytest.mark.parametrize(
    ("text", "country"),
    [
        ("Deutschland", "DE"),
        ("Allemagne", "DE"),
        ("Alemania", "DE"),
        ("Germania", "DE"),
        ("Duitsland", "DE"),
        ("Frankreich", "FR"),
        ("España", "ES"),
        ("Spanien", "ES"),
        ("Schweiz", "CH"),
        ("Suisse", "CH"),
        ("Svizzera", "CH"),
        ("USA", "US"),
        ("U.S.", "US"),
        ("U.K.", "GB"),
        ("UK", "GB"),
        ("England", "GB"),
        ("Holland", "NL"),
        ("Nederland", "NL"),
        ("Danmark", "DK"),
        ("Germany", "DE"),
        ("South Korea", "KR"),
        ("Paris", "FR"),
        ("London", "GB"),
        ("Munich", "DE"),
        ("München", "DE"),
        ("MÜNCHEN", "DE"),
        ("Zurich", "CH"),
        ("Genève", "CH"),
        ("New York", "US"),
        ("Milano", "IT"),
        ("Bruxelles", "BE"),
        ("Wien", "AT"),
        ("Bengaluru", "IN"),
        ("Congés \u2013 Barcelone", "ES"),
    ],
)
def test_names_in_several_languages(text: str, country: str) -> None:
    match = resolve_place(text)

    assert match is not None
    assert match.country == country


@pytest.mark.parametrize(
    ("text", "country"),
    [("Paris", "FR"), ("Paris, TX", "US"), ("Paris, Texas", "US"), ("London", "GB"), ("Berlin, DE", "DE")],
)
def test_a_us_state_after_a_comma_wins_over_the_city_table(text: str, country: str) -> None:
    match = resolve_place(text)

    assert match is not None
    assert match.country == country


def test_a_multi_leg_route_resolves_to_its_destination() -> None:
    match = resolve_place("LH 400 FRA → LHR → SIN")

    assert match is not None
    assert (match.country, match.matched, match.rule) == ("SG", "SIN", "iata.route_destination")


def test_the_right_most_place_wins_in_an_address() -> None:
    match = resolve_place("Rue de Londres 5, Paris")

    assert match is not None
    assert match.country == "FR"


@pytest.mark.parametrize(
    "text",
    [
        "Microsoft Teams Meeting",
        "Zoom",
        "Google Meet",
        "https://teams.microsoft.com/l/meetup-join/19%3ameeting_Paris",
        "https://zoom.us/j/98765432100?pwd=London",
        "+49 69 1234 5678",
        "Dial-in: +1 415-555-0100,,123456#",
        "Room 4.12",
        "Home office",
        "Conference room B",
        "",
    ],
)
def test_virtual_and_local_locations_are_not_places(text: str) -> None:
    assert resolve_place(text) is None
    assert is_non_place(text)


@pytest.mark.parametrize(
    "text",
    [
        "THE CEO ALL hands",  # all three are IATA codes, but not in an airport context
        "CEO-CFO sync",
        "1:1 with Jordan",
        "Meeting, OK",
        "nice to meet you",
        "turkey dinner",
        "us and them",
        "Payroll team weekly",
    ],
)
def test_ordinary_words_are_not_places(text: str) -> None:
    assert resolve_place(text) is None


def test_a_real_place_is_not_a_non_place() -> None:
    assert not is_non_place("Client HQ, 12 Rue de la Paix, Paris")


def test_confidence_ranks_airports_and_countries_above_cities() -> None:
    airport = resolve_place("FRA → BOS")
    country = resolve_place("Spain")
    city = resolve_place("Barcelona")

    assert airport is not None
    assert country is not None
    assert city is not None
    assert airport.confidence >= country.confidence > city.confidence
    assert all(0.0 <= m.confidence <= 1.0 for m in (airport, country, city))
