"""Place resolution by evidence: gazetteer cities, regions, postcodes, airports, hotels, non-places."""

from __future__ import annotations

import pytest

from chalicelib.detection.places import (
    country_at,
    is_non_place,
    resolve_address,
    resolve_place,
    resolve_working_location,
)


def country(text: str) -> str | None:
    match = resolve_place(text)
    return None if match is None else match.country


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Frankfurt Airport", "DE"),
        ("Flughafen München", "DE"),
        ("Aéroport Charles de Gaulle", "FR"),
        ("Amsterdam Airport Schiphol", "NL"),
        ("Lotnisko Chopina, Warszawa", "PL"),
        ("Boston Logan International (BOS)", "US"),
    ],
)
def test_airport_names_resolve_to_their_country(text: str, expected: str) -> None:
    assert country(text) == expected


def test_an_airport_name_says_so_in_its_rule() -> None:
    match = resolve_place("Aéroport Charles de Gaulle")

    assert match is not None
    assert match.rule == "airport.name"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Deutschland", "DE"),
        ("Allemagne", "DE"),
        ("Niemcy", "DE"),
        ("Alemania", "DE"),
        ("Germania", "DE"),
        ("Duitsland", "DE"),
        ("USA", "US"),
        ("U.S.", "US"),
        ("Vereinigte Staaten", "US"),
        ("Stany Zjednoczone", "US"),
        ("U.K.", "GB"),
        ("Royaume-Uni", "GB"),
        ("Wielka Brytania", "GB"),
        ("Holland", "NL"),
        ("Pays-Bas", "NL"),
        ("Schweiz", "CH"),
        ("Svizzera", "CH"),
        ("Szwajcaria", "CH"),
        ("Francja", "FR"),
        ("Włochy", "IT"),
        ("Irlanda", "IE"),
        ("Hiszpania", "ES"),
        ("Österreich", "AT"),
        ("Belgique", "BE"),
        ("Czechia", "CZ"),
        ("Türkiye", "TR"),
    ],
)
def test_country_names_in_eight_languages_and_common_forms(text: str, expected: str) -> None:
    assert country(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Paris", "FR"),
        ("Paris, TX", "US"),
        ("Paris, Texas", "US"),
        ("London", "GB"),
        ("London, ON", "CA"),
        ("London, Ontario", "CA"),
        ("Valencia", "ES"),
        ("Córdoba", "ES"),
        ("Frankfurt (Oder)", "DE"),
        ("Frankfurt", "DE"),
        ("Tbilisi, Georgia", "GE"),
        ("Batumi, Georgia", "GE"),
        ("Atlanta, Georgia", "US"),
        ("Savannah, Georgia", "US"),
        ("Georgia, USA", "US"),
        ("Amman, Jordan", "JO"),
        ("Cambridge CB2 1TN", "GB"),
        ("Cambridge, MA 02139", "US"),
        ("Birmingham", "GB"),
        ("Warszawa", "PL"),
        ("Monachium", "DE"),
        ("Mailand", "IT"),
        ("Lisboa", "PT"),
        ("Den Haag", "NL"),
        ("Wolfsburg", "DE"),
        ("Tallinn", "EE"),
        ("Cluj-Napoca", "RO"),
        ("Bengaluru", "IN"),
    ],
)
def test_cities_are_ranked_by_the_evidence_next_to_them_then_by_size(text: str, expected: str) -> None:
    assert country(text) == expected


@pytest.mark.parametrize("text", ["Georgia", "Jordan", "Meeting with Georgia", "1:1 with Jordan"])
def test_an_ambiguous_name_alone_is_no_country(text: str) -> None:
    assert resolve_place(text) is None


@pytest.mark.parametrize(
    ("text", "expected", "rule"),
    [
        ("Friedrichstraße 68, 10117 Berlin", "DE", "city.postcode"),
        ("Friedrichstraße 68, 10117 Berlin, BE", "DE", "city.region"),
        ("12 Rue de la Paix, 75002 Paris", "FR", "city.postcode"),
        ("1600 Amphitheatre Pkwy, Mountain View, CA 94043", "US", "city.us_state"),
        ("Plac Defilad 1, 00-901 Warszawa", "PL", "city.postcode"),
        ("Stephansplatz 1, 1010 Wien", "AT", "city.postcode"),
        ("Stable St, London N1C 4AB", "GB", "city.postcode"),
        ("Bahnhofstrasse 1, 8001 Zürich", "CH", "city.postcode"),
        ("Berlin, DE", "DE", "city.country_code"),
        ("Ghent, BE", "BE", "city.country_code"),
        ("Somewhere Street 1, Tinytown, NSW 2000", "AU", "region"),
    ],
)
def test_postal_address_lines(text: str, expected: str, rule: str) -> None:
    match = resolve_place(text)

    assert match is not None
    assert (match.country, match.rule) == (expected, rule)


def test_be_in_a_berlin_address_is_the_german_land_not_belgium() -> None:
    assert country("Alexanderplatz 1, 10178 Berlin, BE") == "DE"
    assert country("Unter den Linden 77, Berlin, BE, Germany") == "DE"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hilton Vienna Park", "AT"),
        ("Marriott Warsaw", "PL"),
        ("NH Collection Milano", "IT"),
        ("Motel One Berlin-Mitte", "DE"),
        ("Hotel Le Meurice Paris", "FR"),
    ],
)
def test_hotel_names_carrying_a_city(text: str, expected: str) -> None:
    match = resolve_place(text)

    assert match is not None
    assert (match.country, match.rule) == (expected, "hotel.city")


@pytest.mark.parametrize(
    "text",
    [
        "Microsoft Teams Meeting",
        "Zoom",
        "Google Meet",
        "Webex",
        "https://teams.microsoft.com/l/meetup-join/19%3ameeting_Paris",
        "+49 30 1234 5678, PIN 1234#",
        "Room 4.12",
        "Room Paris",
        "Salle Lyon",
        "Meeting room London (3rd floor)",
        "Home office",
        "Conference room B",
        "TBD",
        "Online",
    ],
)
def test_non_places_are_recognised_and_ignored(text: str) -> None:
    assert resolve_place(text) is None
    assert is_non_place(text)


@pytest.mark.parametrize(
    "text",
    [
        "Essen mit Kunden",  # Essen (DE) is also "food"
        "Nice to meet you",
        "Reading group",
        "Project Aurora kickoff",
        "Split the budget",
        "Sprint review",
        "1:1 Jonas",
        "Weekly pipeline review",
        "Fokuszeit – Jahresabschluss",
        "Point hebdo équipe paie",
        "Bank of America call",
        "Turkey dinner",
        "Chile wine tasting",
        "Riunione settimanale",
        "Embassy of France",
    ],
)
def test_words_that_are_also_city_names_need_corroboration(text: str) -> None:
    assert resolve_place(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [("Workshop – Essen", "DE"), ("Trip to Nice", "FR"), ("Offsite in Split", "HR"), ("45127 Essen", "DE")],
)
def test_word_like_city_names_count_when_they_stand_as_a_place(text: str, expected: str) -> None:
    assert country(text) == expected


def test_a_graph_address_uses_its_country_field_first() -> None:
    address = {"street": "Rue du Marché 1", "city": "Paris", "countryOrRegion": "Belgique"}

    match = resolve_address(address)

    assert match is not None
    assert (match.country, match.rule) == ("BE", "address.country")


def test_a_caller_country_hint_beats_the_address_text() -> None:
    match = resolve_address({"city": "London"}, country_hint="CA")

    assert match is not None
    assert match.country == "CA"


def test_a_graph_address_without_country_falls_back_to_its_lines() -> None:
    match = resolve_address({"street": "Plac Defilad 1", "postalCode": "00-901", "city": "Warszawa"})

    assert match is not None
    assert match.country == "PL"


def test_google_working_locations() -> None:
    office = {"type": "officeLocation", "officeLocation": {"label": "Munich office", "buildingId": "MUC-1"}}
    custom = {"type": "customLocation", "customLocation": {"label": "Client site Lyon"}}

    office_match = resolve_working_location(office)
    custom_match = resolve_working_location(custom)

    assert office_match is not None
    assert custom_match is not None
    assert (office_match.country, custom_match.country) == ("DE", "FR")
    assert resolve_working_location({"type": "homeOffice", "homeOffice": {}}) is None
    assert resolve_working_location("Home") is None


@pytest.mark.parametrize(
    ("lat", "lon", "expected"),
    [
        (48.8566, 2.3522, "FR"),
        (52.52, 13.405, "DE"),
        (47.3769, 8.5417, "CH"),
        (40.7128, -74.006, "US"),
        (1.29, 103.85, "SG"),
        (-33.87, 151.21, "AU"),
        (0.0, -30.0, None),  # mid-Atlantic
    ],
)
def test_coordinates_give_the_country_of_the_nearest_town(
    lat: float, lon: float, expected: str | None
) -> None:
    assert country_at(lat, lon) == expected


def test_the_same_text_gives_the_same_answer_every_time() -> None:
    first = resolve_place("  Friedrichstraße 68,  10117 Berlin ")
    second = resolve_place("Friedrichstraße 68, 10117 Berlin")

    assert first == second


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 Canada Square, London E14 5AB", "GB"),  # a street named after a country
        ("Flight to London (BA 178)", "GB"),  # BA is the airline, not Bosnia
        ("Istanbul, Turkey", "TR"),
        ("Santiago, Chile", "CL"),
        ("Berlin (DE)", "DE"),
    ],
)
def test_names_inside_streets_and_flight_numbers_do_not_decide(text: str, expected: str) -> None:
    assert country(text) == expected


@pytest.mark.parametrize(
    ("text", "country"),
    [
        ("Urlaub Mallorca", "ES"),
        ("Toskana", "IT"),
        ("Summer holiday - Hawaii", "US"),
        ("Leave - Bali trip", "ID"),
        ("Vacances en Corse", "FR"),
        ("Kreta", "GR"),
    ],
)
def test_islands_and_regions_people_travel_to_name_their_country(text: str, country: str) -> None:
    match = resolve_place(text)
    assert match is not None
    assert (match.country, match.rule) == (country, "destination")


def test_a_town_name_inside_a_hyphenated_name_is_not_that_town() -> None:
    match = resolve_place("Genève, Quai du Mont-Blanc")  # Mont is a Belgian town
    assert match is not None
    assert match.country == "CH"
    baden = resolve_place("Baden-Baden")
    assert baden is not None
    assert baden.country == "DE"
