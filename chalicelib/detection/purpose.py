"""Why a stay abroad happens: work, holiday or unknown, from the wording and kind of its events.

Why: a posted-worker certificate is needed for work, not for a holiday, and calendars are written in
the traveler's language. One Spanish "Vacaciones" or Polish "urlop" must count as much as an English
"Vacation"; "Kundentermin", "réunion" or "spotkanie" as much as "Client meeting". The decision is made
per trip from flags collected per event, so one working day abroad is enough for work.

How:
- Each event title is read once (cached) against three word lists compiled into one regex each:
  HOLIDAY (explicit leave wording), ABSENCE (out-of-office wording that business travellers also use:
  "Out of office", "OOO", "abwesend", "absent") and WORK (meetings, conferences, client visits,
  project events, trade fairs, trainings ...). English, German, French, Spanish, Italian, Dutch and
  Polish at least; some Portuguese and Scandinavian forms.
- ``decide`` turns a trip's flags into (purpose, confirm):
  work wording -> WORK, with ``confirm`` when explicit holiday wording is there too (a mix);
  else holiday wording, out-of-office wording or an out-of-office entry -> HOLIDAY;
  else an ordinary event at a physical place (a lunch at a street address) -> WORK;
  else (only travel and hotels) -> UNKNOWN.
  An out-of-office entry next to work is not a mix: travellers mark business trips as OOF.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from chalicelib.models import Purpose

WORK = 1
"""Work wording: meeting, workshop, conference, client, project, trade fair ... (any language)."""
HOLIDAY = 2
"""Explicit leave wording: vacation, Urlaub, congés, vacaciones, ferie, vakantie, urlop, PTO ..."""
ABSENCE = 4
"""Out-of-office: the entry's kind, or wording such as "Out of office", "OOO", "abwesend"."""
ORDINARY = 8
"""An event with no telling wording at a physical place (presence, probably work)."""
TRAVEL = 16
"""A travel segment, hotel, rental car or layover: says where, not why."""

_HOLIDAY_WORDS = (
    # English
    r"vacation|vacations|holiday(?!\s+inn)|holidays|pto|annual\s+leave|parental\s+leave|on\s+leave"
    r"|day\s+off|days\s+off|time\s+off|honeymoon|family\s+trip|ski\s+trip"
    # German
    r"|urlaub|betriebsurlaub|jahresurlaub|sonderurlaub|resturlaub|ferien|brückentag|elternzeit"
    # French
    r"|cong[ée]s?|cong[ée]s\s+pay[ée]s|vacances|rtt|jour\s+de\s+repos"
    # Spanish / Italian / Portuguese
    r"|vacaciones|d[ií]as?\s+libres?|d[ií]a\s+libre|ferie|vacanza|vacanze|f[ée]rias"
    # Dutch
    r"|vakantie|verlof|vrije\s+dag"
    # Polish
    r"|urlop|wakacje|dzie[nń]\s+wolny"
    # Scandinavian
    r"|semester|ledig"
)
_ABSENCE_WORDS = (
    r"out\s+of\s+(?:the\s+)?office|ooo|oof|away|abwesend|abwesenheit|absent|absence|ausente|assente"
    r"|afwezig|nieobecn\w*"
)
_WORK_WORDS = (
    # English
    r"meetings?|workshops?|conferences?|summit|congress|convention|clients?|customers?|onsite|on-site"
    r"|projects?|kick-?off|trainings?|offsite|off-site|sales|visit|site\s+visit|audit|interview"
    r"|presentations?|review|negotiations?|steering|board|trade\s+(?:fair|show)|expo|exhibition"
    r"|business\s+trip|go-live|installation|commissioning|demo|pitch|seminar|briefing|negotiation"
    r"|all-hands|hackathon|keynote|panel|roadshow|partner|away\s*days?"
    # German
    r"|besprechung|kundentermin|gesch[äa]ftstermin|kundenbesuch|besuch|sitzung|konferenz|kongress|tagung|messe"
    r"|schulung|dienstreise|gesch[äa]ftsreise|projekt|vertrieb|abstimmung|einweisung|inbetriebnahme"
    r"|kunde|kunden|mitarbeitergespr[äa]ch|vorstellung"
    # French
    r"|r[ée]union|rendez-vous|rdv|salon|congr[èe]s|conf[ée]rence|formation|s[ée]minaire|projet|visite"
    r"|d[ée]placement|mission|d[ée]mo|soutenance|comit[ée]"
    # Spanish
    r"|reuni[oó]n|cliente|congreso|conferencia|feria|formaci[oó]n|proyecto|visita|viaje\s+de\s+negocios"
    r"|jornada|presentaci[oó]n|capacitaci[oó]n"
    # Italian
    r"|riunione|incontro|congresso|conferenza|fiera|formazione|progetto|trasferta|presentazione"
    # Dutch
    r"|vergadering|overleg|klant|klantbezoek|congres|conferentie|beurs|bezoek|zakenreis|opleiding"
    # Polish
    r"|spotkanie|klient|konferencja|kongres|targi|szkolenie|projekt|wizyta|delegacja|prezentacja"
    r"|podr[óo][żz]\s+s[łl]u[żz]bowa"
)
_TRAVEL_WORDS = (
    r"hotel|hôtel|airbnb|check-?in|check-?out|accommodation|unterkunft|übernachtung|hébergement"
    r"|alojamiento|albergo|nocleg|overnachting|train|zug|bahn|tgv|eurostar|rental\s+car|mietwagen"
    r"|taxi|uber|layover|stopover|umstieg|transfer|flight|flug|vol|vuelo|volo|vlucht"
)


def _words(alternatives: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w])(?:{alternatives})(?![\w])", re.IGNORECASE)


_HOLIDAY = _words(_HOLIDAY_WORDS)
_ABSENCE = _words(_ABSENCE_WORDS)
_WORK = _words(_WORK_WORDS)
_TRAVEL = _words(_TRAVEL_WORDS)


@lru_cache(maxsize=65536)
def wording(title: str) -> int:
    """The WORK / HOLIDAY / ABSENCE / TRAVEL flags the words of ``title`` carry (0: none)."""
    if not title:
        return 0
    flags = 0
    if _HOLIDAY.search(title):
        flags |= HOLIDAY
    if _WORK.search(title):
        flags |= WORK
    if not flags and _ABSENCE.search(title):
        flags |= ABSENCE
    if not flags and _TRAVEL.search(title):
        flags |= TRAVEL
    return flags


def decide(flags: Iterable[int]) -> tuple[Purpose, bool]:
    """(purpose, confirm) for a trip whose events carry ``flags``; see the module docstring."""
    combined = 0
    for value in flags:
        combined |= value
    if combined & WORK:
        return Purpose.WORK, bool(combined & HOLIDAY)
    if combined & (HOLIDAY | ABSENCE):
        return Purpose.HOLIDAY, False
    if combined & ORDINARY:
        return Purpose.WORK, False
    return Purpose.UNKNOWN, False
