"""`make screenshots`: every message coverwatch sends, in every language, as HTML and as a phone-width PNG.

Why: a message is read on a phone by someone in a hurry, and a template change that breaks that is
invisible in a unit test. This renders each message through the real builders (``build_alert``,
``build_reminder``, ``build_resolved``, ``build_checklist``, ``digest.build``) with sample people and
trips decided by the real rules, writes ``screenshots/<name>-<lang>.html`` and, when a Chromium is
installed, ``screenshots/<name>-<lang>.png`` at 390 px wide, the width of a common phone. Without
Chromium it still writes the HTML and says how to install it, and exits non-zero so nobody mistakes
the run for a complete one.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path

from chalicelib.alerts.checklist import build_checklist
from chalicelib.alerts.compose import AlertFacts, build_alert, build_reminder, build_resolved
from chalicelib.digest import Digest, build
from chalicelib.models import (
    Alert,
    AlertKind,
    Certificate,
    CertificateStatus,
    DocumentType,
    Employee,
    Evidence,
    FailedMessage,
    Language,
    Purpose,
    SourceKind,
    Trip,
)
from chalicelib.rules import assess
from chalicelib.store.repository import StoredTrip

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "headless_shell")
PHONE = "390,1400"
TODAY = date(2027, 2, 10)
HR = "hr@example.com"
SIPSI = {
    Language.EN: "Postings to France are declared online (SIPSI) by the employer before work starts.",
    Language.DE: "Entsendungen nach Frankreich meldet der Arbeitgeber vor Arbeitsbeginn online an (SIPSI).",
}
"""A sample "good to know" note (the real ones come with the host-country data), with its source below."""
SIPSI_SOURCE = ("Ministère du Travail: SIPSI", "https://www.sipsi.travail.gouv.fr/")
INSTALL_HINT = (
    "No Chromium found (looked for: {names}). The HTML files are written; for the PNGs install it:\n"
    "  sudo apt-get install chromium        # Debian / Ubuntu\n"
    "then run `make screenshots` again."
)


def _employee(id: str, name: str, home: str, nationality: str | None = None, **extra: object) -> Employee:
    return Employee.model_validate(
        {
            "id": id,
            "name": name,
            "email": f"{id.removeprefix('emp-')}@example.com",
            "home_country": home,
            "nationalities": [nationality or home],
            "residence_country": home,
            **extra,
        }
    )


def _trip(
    id: str, employee: Employee, country: str, start: date, end: date, *, summary: str, place: str
) -> Trip:
    return Trip(
        id=id,
        employee_id=employee.id,
        country=country,
        start=start,
        end=end,
        purpose=Purpose.WORK,
        confidence=0.92,
        evidence=(
            Evidence(
                source=SourceKind.GRAPH,
                uid=f"{id}@calendar.example.com",
                summary=summary,
                place=place,
                rule="city",
                day=start,
            ),
        ),
    )


def _case(employee: Employee, trip: Trip) -> AlertFacts:
    return AlertFacts(employee, trip, assess(trip, employee, [], TODAY))


def samples(language: Language) -> dict[str, Alert]:
    """Every message kind (and each status's wording) for sample people, decided by the real rules."""
    lena = _employee("emp-lena", "Lena Hoffmann", "DE", language=language)
    tom = _employee("emp-tom", "Tom Becker", "DE")
    priya = _employee("emp-priya", "Priya Nair", "NL", nationality="IN")
    paris = _trip(
        "trp-paris", lena, "FR", date(2027, 3, 8), date(2027, 3, 10), summary="Supplier audit", place="Lyon"
    )
    boston = _trip(
        "trp-boston",
        tom,
        "US",
        date(2027, 4, 5),
        date(2032, 6, 30),
        summary="Project lead, Boston office",
        place="Boston",
    )
    singapore = _trip(
        "trp-sg",
        tom,
        "SG",
        date(2027, 3, 15),
        date(2027, 3, 19),
        summary="Customer workshop",
        place="Singapore",
    )
    aarhus = _trip(
        "trp-aarhus",
        priya,
        "DK",
        date(2027, 3, 2),
        date(2027, 3, 4),
        summary="Wind farm visit",
        place="Aarhus",
    )
    missing, too_long = _case(lena, paris), _case(tom, boston)
    no_agreement, review = _case(tom, singapore), _case(priya, aarhus)
    moved = AlertFacts(lena, paris, missing.assessment, moved_from=(date(2027, 3, 1), date(2027, 3, 3)))

    unsure = paris.model_copy(update={"purpose": Purpose.UNKNOWN, "confirm": True})
    applied = Certificate(
        id="a1-2027-031",
        employee_id=lena.id,
        document=DocumentType.A1,
        issuing_country="DE",
        host_countries=("FR",),
        valid_from=date(2027, 3, 1),
        valid_to=date(2027, 3, 31),
        status=CertificateStatus.APPLIED,
        reference="TK-A1-2027-031",
    )
    checklist = build_checklist(
        lena,
        unsure,
        assess(unsure, lena, [applied], TODAY),
        [applied],
        answer_base_url="https://coverwatch.example.com",
        secret=b"screenshot-sample-secret",
        now=datetime(2027, 3, 1, 8, tzinfo=UTC),
        version=1,
        host_notes=((SIPSI[language], *SIPSI_SOURCE),),
    )

    def stored(facts: AlertFacts, first_seen: date) -> StoredTrip:
        return StoredTrip(facts.trip, facts.assessment, version=1, first_seen=first_seen)

    open_cases = [stored(missing, TODAY), stored(no_agreement, date(2027, 2, 1)), stored(too_long, TODAY)]
    failed = FailedMessage(
        key="traveler_checklist:trp-oslo:v1",
        kind=AlertKind.TRAVELER_CHECKLIST,
        employee_id="emp-jonas",
        recipient="jonas.weber@example.com",
        subject="Your trip to Norway (2027-02-16): what to carry",
        channel="email",
        attempts=5,
        last_error="SES: MessageRejected (address on the suppression list)",
        claimed_on=date(2027, 2, 9),
    )
    digest = Digest(open_cases, [open_cases[0], open_cases[2]], [], failed=[failed])
    return {
        "alert-missing": build_alert(moved, HR, language=language),
        "alert-too-long": build_alert(too_long, HR, language=language),
        "alert-no-agreement": build_alert(no_agreement, HR, language=language),
        "alert-review": build_alert(review, HR, language=language),
        "reminder": build_reminder(missing, HR, key="r", days_left=3, language=language),
        "escalation": build_reminder(
            missing, "head-of-hr@example.com", key="e", days_left=1, escalation=True, language=language
        ),
        "resolved": build_resolved(lena, paris, "covered", HR, language=language),
        "checklist": checklist,
        "digest": build(digest, TODAY, HR, language=language),
    }


def find_browser() -> str | None:
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    return None


def screenshot(browser: str, html: Path, png: Path) -> None:
    subprocess.run(  # noqa: S603 - a local browser on our own files, no shell
        [
            browser,
            "--headless",
            "--disable-gpu",
            "--no-sandbox",
            "--hide-scrollbars",
            f"--window-size={PHONE}",
            f"--screenshot={png}",
            html.resolve().as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )


def main(argv: Sequence[str] | None = None, *, browser: Callable[[], str | None] = find_browser) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m coverwatch.screenshots", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--out", type=Path, default=Path("screenshots"), help="folder for .html and .png")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    pages = []
    for language in Language:
        for name, alert in samples(language).items():
            page = args.out / f"{name}-{language.value}.html"
            page.write_text(alert.html, encoding="utf-8")
            print(page)
            pages.append(page)
    chromium = browser()
    if chromium is None:
        print(INSTALL_HINT.format(names=", ".join(BROWSERS)), file=sys.stderr)
        return 1
    for page in pages:
        png = page.with_suffix(".png")
        screenshot(chromium, page, png)
        print(png)
    return 0


if __name__ == "__main__":
    sys.exit(main())
