"""Place-resolution figures for `make bench`: events/s through resolve_place, gazetteer size and load time.

The mix is 100,000 seeded location/title strings the way calendars repeat them: a few hundred distinct
virtual-meeting, room, address, airport, hotel and city strings, plus about 10% one-off strings (street
numbers and rooms that differ), all resolved on one core in one process as a warm Lambda would.
"""

from __future__ import annotations

import random
import subprocess
import sys
import time

from chalicelib.detection.gazetteer import data_size

_COMMON = [
    "Microsoft Teams Meeting",
    "Zoom",
    "Google Meet",
    "Webex",
    "Online",
    "TBD",
    "Home office",
    "https://teams.microsoft.com/l/meetup-join/19%3ameeting",
    "+49 30 1234 5678, PIN 1234#",
    "Conference room B",
    "Room 4.12",
    "Besprechungsraum Alster",
    "Salle Lyon",
    "Daily stand-up",
    "Sprint review",
    "Payroll team weekly",
    "Lunch",
    "Focus time",
    "1:1 Jonas",
    "Urlaub",
    "Congés",
]
_PLACES = [
    "Friedrichstraße 68, 10117 Berlin",
    "12 Rue de la Paix, 75002 Paris",
    "Plac Defilad 1, 00-901 Warszawa",
    "1600 Amphitheatre Pkwy, Mountain View, CA 94043",
    "Canary Wharf, London, UK",
    "Barcelona, Spain",
    "Frankfurt Airport (FRA)",
    "LH 422 FRA → BOS",
    "Flughafen München",
    "Aéroport Charles de Gaulle",
    "Hilton Vienna Park",
    "Marriott Warsaw",
    "NH Collection Milano",
    "Paris, TX",
    "London, ON",
    "Tbilisi, Georgia",
    "Frankfurt (Oder)",
    "Kongresshaus Zürich, Zürich",
    "København",
    "Boston, MA",
    "Client workshop – Dublin",
    "Réunion client – Lyon",
    "Quarterly review – Manchester office",
    "Workshop Payroll Nord – Hamburg",
    "Valencia",
    "Deutschland",
    "Stephansplatz 1, 1010 Wien",
]
_STREETS = ["Hauptstraße", "Rue Servient", "Calle Mayor", "Via Roma", "Kerkstraat", "ulica Długa", "High St"]
_CITIES = ["Berlin", "Lyon", "Madrid", "Milano", "Utrecht", "Kraków", "Leeds", "Porto", "Graz", "Gent"]


def mix(n: int = 100_000, seed: int = 5) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        roll = rng.random()
        if roll < 0.55:
            out.append(rng.choice(_COMMON))
        elif roll < 0.9:
            out.append(rng.choice(_PLACES))
        elif roll < 0.95:
            out.append(f"{rng.choice(_STREETS)} {rng.randrange(1, 300)}, {rng.choice(_CITIES)}")
        else:
            out.append(f"Room {rng.randrange(1, 9)}.{rng.randrange(1, 40)} – {rng.choice(_CITIES)} office")
    return out


def _load_seconds() -> str:
    """Cold load of every data file in a fresh interpreter (what a Lambda cold start pays once)."""
    code = (
        "import time; t=time.perf_counter();"
        "from chalicelib.detection.places import resolve_place; resolve_place('Paris');"
        "print(f'{time.perf_counter()-t:.3f}')"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return result.stdout.strip()


def run() -> None:
    from chalicelib.detection.gazetteer import gazetteer
    from chalicelib.detection.places import _resolve, resolve_place

    texts = mix()
    cold = _load_seconds()
    loaded = gazetteer()
    files = [
        "gazetteer.txt",
        "points.txt",
        "postcodes.txt",
        "country_names.txt",
        "country_aliases.json",
        "cities.json",
        "regions.json",
    ]
    size = sum(data_size(name) for name in files)
    started = time.perf_counter()
    found = sum(1 for text in texts if resolve_place(text) is not None)
    elapsed = time.perf_counter() - started
    print(
        f"places: {len(texts):,} strings ({len(set(texts)):,} distinct) in {elapsed:.2f} s = "
        f"{len(texts) / elapsed:,.0f} events/s through resolve_place on one core ({found:,} placed)"
    )
    distinct = sorted(set(texts))
    resolve_uncached = _resolve.__wrapped__
    started = time.perf_counter()
    for text in distinct:
        resolve_uncached(" ".join(text.split()))
    uncached = time.perf_counter() - started
    print(f"places: {len(distinct) / uncached:,.0f} distinct strings/s uncached (first sight of a string)")
    print(
        f"places: gazetteer {len(loaded.by_name):,} names, data shipped {size / 1024 / 1024:.2f} MiB "
        f"(gazetteer.txt {data_size('gazetteer.txt') / 1024:.0f} KiB), "
        f"gazetteer load {loaded.load_seconds:.3f} s, "
        f"cold import + first answer {cold} s"
    )


if __name__ == "__main__":
    run()
