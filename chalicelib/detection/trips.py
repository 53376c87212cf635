"""Find stays abroad in an employee's calendar events and bookings and turn them into Trips.

Why: a posted-worker certificate (A1 / CoC) is needed per stay in a host country, so the unit of
work downstream is "employee X was in country Y from day A to day B, for work or not". A calendar
never says that directly; it says "Workshop - Berlin office" on three days and "LH 422 FRA → BOS" on
one. Detection is pure (no clock, no I/O): the same events always give the same trips, with the same
ids, so a rescan updates trips instead of duplicating them.

The pipeline, one module per step:
1. ``readings``: each entry is a journey (flight, train, bus: origin and destination), a stay at a
   place, or nothing (cancelled, virtual, room, home office, no place) — cached on its text fields;
   ``places.resolve_place`` turns text into countries.
2. ``timeline``: journeys in departure order give departure and arrival days (local, across zones)
   and the days between an arrival and the next departure; connections under 24 hours with no other
   entry in that country are transit; every other placed entry gives presence on its days.
3. ``merge``: presence days per foreign country become stays (one Trip per host country with its own
   dates; a change day counts for both countries), the same stay from several sources is one Trip
   with all the evidence, ids stay stable, confidence rises with independent sources.
4. ``purpose``: work, holiday (wording in seven+ languages, out-of-office), a mix (work, ``confirm``)
   or unknown (travel and hotels only).

Transit stays are left out by default (a change of planes in Doha is not a trip to Qatar);
``include_transit=True`` returns them as Trips with purpose TRANSIT, which the rules treat as
not_required.
"""

from __future__ import annotations

from collections.abc import Iterable

from chalicelib.countries import normalize_country
from chalicelib.detection.merge import MAX_GAP_DAYS, build_trips
from chalicelib.detection.timeline import presences
from chalicelib.models import CalendarEvent, Trip

__all__ = ["MAX_GAP_DAYS", "detect_trips"]


def detect_trips(
    employee_id: str,
    home_country: str,
    events: Iterable[CalendarEvent],
    *,
    include_transit: bool = False,
) -> list[Trip]:
    """Trips abroad (country != ``home_country``) found in ``events``, sorted by start date."""
    home = normalize_country(home_country)  # "uk" and "GB" are the same home
    return build_trips(employee_id, home, presences(events, home), include_transit=include_transit)
