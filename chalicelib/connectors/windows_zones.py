"""Windows time-zone names → IANA zone names, so Outlook/Exchange exports keep their real offsets.

Why: Outlook and Exchange write ``TZID=W. Europe Standard Time`` (a Windows registry key name), older
Exchange/OWA even the *display name* ``TZID="(UTC+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm,
Vienna"``, often without a VTIMEZONE to explain it. Without a mapping such times would be read as
floating, and a trip's day could shift near midnight. This module is pure data plus one lookup.

Source: Unicode CLDR ``common/supplemental/windowsZones.xml`` (the ``territory="001"`` "golden zone"
of each Windows zone), https://github.com/unicode-org/cldr/blob/main/common/supplemental/windowsZones.xml
— CLDR keeps its canonical (sometimes older) IANA spellings such as ``Asia/Calcutta`` and
``Europe/Kiev``; every one of them is a valid name in the tz database (as a link). The display names
are Windows' own ``Display`` strings (``HKLM\\...\\Time Zones\\<id>\\Display``) for the common zones.
A unit test cross-checks this table against the CLDR-generated table that ships with ``icalendar``.
"""

from __future__ import annotations

import re
from datetime import UTC, timedelta, timezone, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WINDOWS_TO_IANA: dict[str, str] = {
    "Dateline Standard Time": "Etc/GMT+12",
    "UTC-11": "Etc/GMT+11",
    "Aleutian Standard Time": "America/Adak",
    "Hawaiian Standard Time": "Pacific/Honolulu",
    "Marquesas Standard Time": "Pacific/Marquesas",
    "Alaskan Standard Time": "America/Anchorage",
    "UTC-09": "Etc/GMT+9",
    "Pacific Standard Time (Mexico)": "America/Tijuana",
    "UTC-08": "Etc/GMT+8",
    "Pacific Standard Time": "America/Los_Angeles",
    "US Mountain Standard Time": "America/Phoenix",
    "Mountain Standard Time (Mexico)": "America/Mazatlan",
    "Mountain Standard Time": "America/Denver",
    "Yukon Standard Time": "America/Whitehorse",
    "Central America Standard Time": "America/Guatemala",
    "Central Standard Time": "America/Chicago",
    "Easter Island Standard Time": "Pacific/Easter",
    "Central Standard Time (Mexico)": "America/Mexico_City",
    "Canada Central Standard Time": "America/Regina",
    "SA Pacific Standard Time": "America/Bogota",
    "Eastern Standard Time (Mexico)": "America/Cancun",
    "Eastern Standard Time": "America/New_York",
    "Haiti Standard Time": "America/Port-au-Prince",
    "Cuba Standard Time": "America/Havana",
    "US Eastern Standard Time": "America/Indianapolis",
    "Turks And Caicos Standard Time": "America/Grand_Turk",
    "Paraguay Standard Time": "America/Asuncion",
    "Atlantic Standard Time": "America/Halifax",
    "Venezuela Standard Time": "America/Caracas",
    "Central Brazilian Standard Time": "America/Cuiaba",
    "SA Western Standard Time": "America/La_Paz",
    "Pacific SA Standard Time": "America/Santiago",
    "Newfoundland Standard Time": "America/St_Johns",
    "Tocantins Standard Time": "America/Araguaina",
    "E. South America Standard Time": "America/Sao_Paulo",
    "SA Eastern Standard Time": "America/Cayenne",
    "Argentina Standard Time": "America/Buenos_Aires",
    "Greenland Standard Time": "America/Godthab",
    "Montevideo Standard Time": "America/Montevideo",
    "Magallanes Standard Time": "America/Punta_Arenas",
    "Saint Pierre Standard Time": "America/Miquelon",
    "Bahia Standard Time": "America/Bahia",
    "UTC-02": "Etc/GMT+2",
    "Azores Standard Time": "Atlantic/Azores",
    "Cape Verde Standard Time": "Atlantic/Cape_Verde",
    "UTC": "Etc/UTC",
    "GMT Standard Time": "Europe/London",
    "Greenwich Standard Time": "Atlantic/Reykjavik",
    "Sao Tome Standard Time": "Africa/Sao_Tome",
    "Morocco Standard Time": "Africa/Casablanca",
    "W. Europe Standard Time": "Europe/Berlin",
    "Central Europe Standard Time": "Europe/Budapest",
    "Romance Standard Time": "Europe/Paris",
    "Central European Standard Time": "Europe/Warsaw",
    "W. Central Africa Standard Time": "Africa/Lagos",
    "Jordan Standard Time": "Asia/Amman",
    "GTB Standard Time": "Europe/Bucharest",
    "Middle East Standard Time": "Asia/Beirut",
    "Egypt Standard Time": "Africa/Cairo",
    "E. Europe Standard Time": "Europe/Chisinau",
    "Syria Standard Time": "Asia/Damascus",
    "West Bank Standard Time": "Asia/Hebron",
    "South Africa Standard Time": "Africa/Johannesburg",
    "FLE Standard Time": "Europe/Kiev",
    "Israel Standard Time": "Asia/Jerusalem",
    "South Sudan Standard Time": "Africa/Juba",
    "Kaliningrad Standard Time": "Europe/Kaliningrad",
    "Sudan Standard Time": "Africa/Khartoum",
    "Libya Standard Time": "Africa/Tripoli",
    "Namibia Standard Time": "Africa/Windhoek",
    "Arabic Standard Time": "Asia/Baghdad",
    "Turkey Standard Time": "Europe/Istanbul",
    "Arab Standard Time": "Asia/Riyadh",
    "Belarus Standard Time": "Europe/Minsk",
    "Russian Standard Time": "Europe/Moscow",
    "E. Africa Standard Time": "Africa/Nairobi",
    "Volgograd Standard Time": "Europe/Volgograd",
    "Iran Standard Time": "Asia/Tehran",
    "Arabian Standard Time": "Asia/Dubai",
    "Astrakhan Standard Time": "Europe/Astrakhan",
    "Azerbaijan Standard Time": "Asia/Baku",
    "Russia Time Zone 3": "Europe/Samara",
    "Mauritius Standard Time": "Indian/Mauritius",
    "Saratov Standard Time": "Europe/Saratov",
    "Georgian Standard Time": "Asia/Tbilisi",
    "Caucasus Standard Time": "Asia/Yerevan",
    "Afghanistan Standard Time": "Asia/Kabul",
    "West Asia Standard Time": "Asia/Tashkent",
    "Ekaterinburg Standard Time": "Asia/Yekaterinburg",
    "Pakistan Standard Time": "Asia/Karachi",
    "Qyzylorda Standard Time": "Asia/Qyzylorda",
    "India Standard Time": "Asia/Calcutta",
    "Sri Lanka Standard Time": "Asia/Colombo",
    "Nepal Standard Time": "Asia/Katmandu",
    "Central Asia Standard Time": "Asia/Bishkek",
    "Bangladesh Standard Time": "Asia/Dhaka",
    "Omsk Standard Time": "Asia/Omsk",
    "Myanmar Standard Time": "Asia/Rangoon",
    "SE Asia Standard Time": "Asia/Bangkok",
    "Altai Standard Time": "Asia/Barnaul",
    "W. Mongolia Standard Time": "Asia/Hovd",
    "North Asia Standard Time": "Asia/Krasnoyarsk",
    "N. Central Asia Standard Time": "Asia/Novosibirsk",
    "Tomsk Standard Time": "Asia/Tomsk",
    "China Standard Time": "Asia/Shanghai",
    "North Asia East Standard Time": "Asia/Irkutsk",
    "Singapore Standard Time": "Asia/Singapore",
    "W. Australia Standard Time": "Australia/Perth",
    "Taipei Standard Time": "Asia/Taipei",
    "Ulaanbaatar Standard Time": "Asia/Ulaanbaatar",
    "Aus Central W. Standard Time": "Australia/Eucla",
    "Transbaikal Standard Time": "Asia/Chita",
    "Tokyo Standard Time": "Asia/Tokyo",
    "North Korea Standard Time": "Asia/Pyongyang",
    "Korea Standard Time": "Asia/Seoul",
    "Yakutsk Standard Time": "Asia/Yakutsk",
    "Cen. Australia Standard Time": "Australia/Adelaide",
    "AUS Central Standard Time": "Australia/Darwin",
    "E. Australia Standard Time": "Australia/Brisbane",
    "AUS Eastern Standard Time": "Australia/Sydney",
    "West Pacific Standard Time": "Pacific/Port_Moresby",
    "Tasmania Standard Time": "Australia/Hobart",
    "Vladivostok Standard Time": "Asia/Vladivostok",
    "Lord Howe Standard Time": "Australia/Lord_Howe",
    "Bougainville Standard Time": "Pacific/Bougainville",
    "Russia Time Zone 10": "Asia/Srednekolymsk",
    "Magadan Standard Time": "Asia/Magadan",
    "Norfolk Standard Time": "Pacific/Norfolk",
    "Sakhalin Standard Time": "Asia/Sakhalin",
    "Central Pacific Standard Time": "Pacific/Guadalcanal",
    "Russia Time Zone 11": "Asia/Kamchatka",
    "New Zealand Standard Time": "Pacific/Auckland",
    "UTC+12": "Etc/GMT-12",
    "Fiji Standard Time": "Pacific/Fiji",
    "Chatham Islands Standard Time": "Pacific/Chatham",
    "UTC+13": "Etc/GMT-13",
    "Tonga Standard Time": "Pacific/Tongatapu",
    "Samoa Standard Time": "Pacific/Apia",
    "Line Islands Standard Time": "Pacific/Kiritimati",
}

DISPLAY_TO_WINDOWS: dict[str, str] = {
    # The text after "(UTC±hh:mm) "; "&" and "and" are both written by different Windows versions.
    "Coordinated Universal Time": "UTC",
    "Dublin, Edinburgh, Lisbon, London": "GMT Standard Time",
    "Monrovia, Reykjavik": "Greenwich Standard Time",
    "Casablanca": "Morocco Standard Time",
    "Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna": "W. Europe Standard Time",
    "Belgrade, Bratislava, Budapest, Ljubljana, Prague": "Central Europe Standard Time",
    "Brussels, Copenhagen, Madrid, Paris": "Romance Standard Time",
    "Sarajevo, Skopje, Warsaw, Zagreb": "Central European Standard Time",
    "West Central Africa": "W. Central Africa Standard Time",
    "Athens, Bucharest": "GTB Standard Time",
    "Athens, Bucharest, Istanbul": "GTB Standard Time",
    "Helsinki, Kyiv, Riga, Sofia, Tallinn, Vilnius": "FLE Standard Time",
    "Helsinki, Kiev, Riga, Sofia, Tallinn, Vilnius": "FLE Standard Time",
    "Jerusalem": "Israel Standard Time",
    "Cairo": "Egypt Standard Time",
    "Chisinau": "E. Europe Standard Time",
    "Harare, Pretoria": "South Africa Standard Time",
    "Kaliningrad": "Kaliningrad Standard Time",
    "Beirut": "Middle East Standard Time",
    "Amman": "Jordan Standard Time",
    "Istanbul": "Turkey Standard Time",
    "Minsk": "Belarus Standard Time",
    "Moscow, St. Petersburg": "Russian Standard Time",
    "Moscow, St. Petersburg, Volgograd": "Russian Standard Time",
    "Kuwait, Riyadh": "Arab Standard Time",
    "Baghdad": "Arabic Standard Time",
    "Nairobi": "E. Africa Standard Time",
    "Tehran": "Iran Standard Time",
    "Abu Dhabi, Muscat": "Arabian Standard Time",
    "Baku": "Azerbaijan Standard Time",
    "Tbilisi": "Georgian Standard Time",
    "Yerevan": "Caucasus Standard Time",
    "Kabul": "Afghanistan Standard Time",
    "Ashgabat, Tashkent": "West Asia Standard Time",
    "Ekaterinburg": "Ekaterinburg Standard Time",
    "Islamabad, Karachi": "Pakistan Standard Time",
    "Chennai, Kolkata, Mumbai, New Delhi": "India Standard Time",
    "Sri Jayawardenepura": "Sri Lanka Standard Time",
    "Kathmandu": "Nepal Standard Time",
    "Dhaka": "Bangladesh Standard Time",
    "Yangon (Rangoon)": "Myanmar Standard Time",
    "Bangkok, Hanoi, Jakarta": "SE Asia Standard Time",
    "Beijing, Chongqing, Hong Kong, Urumqi": "China Standard Time",
    "Kuala Lumpur, Singapore": "Singapore Standard Time",
    "Perth": "W. Australia Standard Time",
    "Taipei": "Taipei Standard Time",
    "Osaka, Sapporo, Tokyo": "Tokyo Standard Time",
    "Seoul": "Korea Standard Time",
    "Adelaide": "Cen. Australia Standard Time",
    "Darwin": "AUS Central Standard Time",
    "Brisbane": "E. Australia Standard Time",
    "Canberra, Melbourne, Sydney": "AUS Eastern Standard Time",
    "Hobart": "Tasmania Standard Time",
    "Guam, Port Moresby": "West Pacific Standard Time",
    "Auckland, Wellington": "New Zealand Standard Time",
    "Fiji": "Fiji Standard Time",
    "Azores": "Azores Standard Time",
    "Cabo Verde Is.": "Cape Verde Standard Time",
    "Greenland": "Greenland Standard Time",
    "Brasilia": "E. South America Standard Time",
    "City of Buenos Aires": "Argentina Standard Time",
    "Buenos Aires": "Argentina Standard Time",
    "Montevideo": "Montevideo Standard Time",
    "Newfoundland": "Newfoundland Standard Time",
    "Atlantic Time (Canada)": "Atlantic Standard Time",
    "Santiago": "Pacific SA Standard Time",
    "Caracas": "Venezuela Standard Time",
    "Bogota, Lima, Quito, Rio Branco": "SA Pacific Standard Time",
    "Bogota, Lima, Quito": "SA Pacific Standard Time",
    "Eastern Time (US & Canada)": "Eastern Standard Time",
    "Indiana (East)": "US Eastern Standard Time",
    "Havana": "Cuba Standard Time",
    "Central Time (US & Canada)": "Central Standard Time",
    "Guadalajara, Mexico City, Monterrey": "Central Standard Time (Mexico)",
    "Saskatchewan": "Canada Central Standard Time",
    "Central America": "Central America Standard Time",
    "Mountain Time (US & Canada)": "Mountain Standard Time",
    "Arizona": "US Mountain Standard Time",
    "Chihuahua, La Paz, Mazatlan": "Mountain Standard Time (Mexico)",
    "Pacific Time (US & Canada)": "Pacific Standard Time",
    "Baja California": "Pacific Standard Time (Mexico)",
    "Alaska": "Alaskan Standard Time",
    "Hawaii": "Hawaiian Standard Time",
    "Samoa": "Samoa Standard Time",
    "Nuku'alofa": "Tonga Standard Time",
}

_OFFSET_PREFIX = re.compile(r"^\(\s*(?:UTC|GMT)\s*(?:([+-])(\d{1,2})(?::?(\d{2}))?)?\s*\)\s*", re.IGNORECASE)


def _key(text: str) -> str:
    return " ".join(text.replace("&", "and").lower().split())


_DISPLAY_INDEX = {_key(display): windows for display, windows in DISPLAY_TO_WINDOWS.items()}
_FIRST_PLACE_INDEX = {_key(display.split(",")[0]): w for display, w in DISPLAY_TO_WINDOWS.items()}
_WINDOWS_INDEX = {_key(name): iana for name, iana in WINDOWS_TO_IANA.items()}


def windows_to_iana(name: str) -> str | None:
    """The IANA name for a Windows zone id or display name, None when it is not one we know."""
    cleaned = name.strip().strip('"').strip()
    found = _WINDOWS_INDEX.get(_key(cleaned))
    if found:
        return found
    match = _OFFSET_PREFIX.match(cleaned)
    if not match:
        return None
    places = _key(cleaned[match.end() :])
    windows = _DISPLAY_INDEX.get(places) or _FIRST_PLACE_INDEX.get(places.split(",")[0])
    return WINDOWS_TO_IANA.get(windows) if windows else None


@lru_cache(maxsize=512)
def resolve_zone(name: str) -> tzinfo | None:
    """A tzinfo for a TZID that is an IANA name, a Windows id or a Windows display name.

    A display name we do not recognise but that starts with "(UTC+hh:mm)" gets that fixed offset:
    the wall-clock time stays right, only daylight saving time is unknown. None when nothing fits.
    """
    cleaned = name.strip().strip('"').strip()
    if not cleaned:
        return None
    for candidate in (cleaned, windows_to_iana(cleaned)):
        if candidate is None or ("/" not in candidate and candidate not in ("UTC", "GMT")):
            continue
        try:
            return ZoneInfo(candidate)
        except (ZoneInfoNotFoundError, ValueError):
            continue
    return _fixed_offset(cleaned)


def _fixed_offset(name: str) -> tzinfo | None:
    match = _OFFSET_PREFIX.match(name)
    if not match:
        return None
    sign, hours, minutes = match.groups()
    if sign is None:
        return UTC
    offset = timedelta(hours=int(hours), minutes=int(minutes or 0))
    if offset > timedelta(hours=14):
        return None
    return timezone(-offset if sign == "-" else offset, name=name[: match.end()].strip())
