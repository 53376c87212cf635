"""Run by infra/trim.py inside an unpacked Lambda bundle: does everything coverwatch runs still load?

Started as ``python -S -c <this file>`` with the bundle as the only entry of PYTHONPATH and the
bundle as the working directory, so an import or data file the trim removed fails here and not in
Lambda. Needs no network and no AWS: it builds clients and parses data, it sends nothing.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys
import sysconfig
from datetime import date

BUNDLE = os.path.realpath(os.getcwd())
STDLIB = os.path.realpath(sysconfig.get_paths()["stdlib"])
ICS = b"""BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//coverwatch//smoke//EN\r
X-WR-TIMEZONE:Europe/Berlin\r
BEGIN:VEVENT\r
UID:smoke-1\r
DTSTART;TZID=Europe/Berlin:20270301T090000\r
DTEND;TZID=Europe/Berlin:20270301T100000\r
RRULE:FREQ=WEEKLY;COUNT=3\r
SUMMARY:Workshop in Paris\r
LOCATION:Paris\r
END:VEVENT\r
END:VCALENDAR\r
"""


def check() -> list[str]:
    done: list[str] = []
    import app

    assert type(app.app).__name__ == "Chalice", "app.app is the Chalice application"
    done.append("import app")

    import chalicelib

    names = [m.name for m in pkgutil.walk_packages(chalicelib.__path__, "chalicelib.")]
    for name in names:
        importlib.import_module(name)
    done.append(f"import every chalicelib module ({len(names)})")

    import httplib2

    from chalicelib.connectors.google_auth import calendar_service

    uri = calendar_service(httplib2.Http()).events().list(calendarId="primary").uri
    assert uri.startswith("https://www.googleapis.com/calendar/v3/calendars/primary/events"), uri
    done.append("Google Calendar client from the shipped discovery document")

    import msal

    assert msal.ConfidentialClientApplication, "msal's client class"
    done.append("msal")

    from chalicelib.countries import country_name, normalize_country

    assert country_name("FR", "de") == "Frankreich", country_name("FR", "de")
    assert normalize_country("uk") == "GB"
    import pycountry

    assert pycountry.countries.lookup("Germany").alpha_2 == "DE"
    done.append("country codes, English and German country names")

    import airportsdata

    assert airportsdata.load("IATA")["FRA"]["country"] == "DE"
    done.append("airport table")

    from chalicelib.alerts.render import TEMPLATE_NAMES, environment

    for name in TEMPLATE_NAMES:
        environment().get_template(f"{name}.html")
    done.append("message templates (jinja2)")

    from chalicelib.connectors.base import SyncWindow
    from chalicelib.connectors.ics import read_ics

    window = SyncWindow(date(2027, 1, 1), date(2027, 12, 31))
    events = read_ics(ICS, "smoke", window).events
    assert len(events) == 3, events
    done.append("ICS with a recurrence and time zones (icalendar, recurring_ical_events, x_wr_timezone)")

    from chalicelib.rules import load_rulebook

    assert load_rulebook().regimes, "the rulebook has regimes"
    done.append("rulebook")

    outside = sorted(
        name
        for name, module in sys.modules.items()
        if (path := getattr(module, "__file__", None))
        and not os.path.realpath(path).startswith((BUNDLE, STDLIB))
    )
    assert not outside, f"loaded from outside the bundle: {outside[:10]}"
    return done


if __name__ == "__main__":
    for line in check():
        print(f"  ok: {line}")
