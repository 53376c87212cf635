"""The traveler's answer to "work trip or holiday?", given through a signed link from their e-mail.

Mail security scanners open links to inspect them, so opening a link (GET) only shows what it would
record with a button; the answer is recorded when the person presses it (POST). The answer is stored
against the trip and the employee's trips are decided again at once, so a "holiday" closes the open
case and a "work" answer clears the request to confirm.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from html import escape

from chalicelib.alerts.links import LinkError, TripAnswer, verify
from chalicelib.countries import country_name
from chalicelib.models import Purpose, Trip
from chalicelib.scan import ScanDeps, reassess_employee


@dataclass(frozen=True)
class Page:
    status: int
    html: str
    recorded: TripAnswer | None = None
    """The answer stored by this request (for the audit trail); None when nothing was written."""


WORDS = {Purpose.WORK: "a work trip", Purpose.HOLIDAY: "a holiday"}


def _page(title: str, body: str) -> str:
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{escape(title)}</title></head><body style='font-family:sans-serif;max-width:36rem;"
        f"margin:2rem auto;padding:0 1rem;line-height:1.5'><h1>{escape(title)}</h1>{body}</body></html>"
    )


def _trip(answer: TripAnswer, deps: ScanDeps) -> Trip | None:
    return next((s.trip for s in deps.repo.trips_of(answer.employee_id) if s.trip.id == answer.trip_id), None)


def _refusal(exc: LinkError) -> Page:
    advice = "Please use the newest e-mail about this trip, or reply to it and HR will record your answer."
    status = 410 if exc.problem == "expired" else 400
    return Page(status, _page("This link cannot be used", f"<p>{escape(str(exc))}.</p><p>{advice}</p>"))


def _describe(trip: Trip) -> str:
    dates = trip.start.isoformat() if trip.start == trip.end else f"{trip.start} to {trip.end}"
    return f"your trip to {country_name(trip.country)} ({dates})"


def _checked(token: str, secret: bytes, now: datetime, deps: ScanDeps) -> tuple[TripAnswer, Trip] | Page:
    """The answer and its trip, or the page that says why the link cannot be used."""
    try:
        answer = verify(token, secret, now)
    except LinkError as exc:
        return _refusal(exc)
    trip = _trip(answer, deps)
    if trip is None:
        return Page(
            404, _page("Trip not found", "<p>This trip is no longer planned; nothing to confirm.</p>")
        )
    return answer, trip


def preview(token: str, secret: bytes, now: datetime, deps: ScanDeps) -> Page:
    """What the link would record, with the button that records it (nothing is stored yet)."""
    checked = _checked(token, secret, now, deps)
    if isinstance(checked, Page):
        return checked
    answer, trip = checked
    what = WORDS[answer.purpose]
    form = (
        f"<form method='post'><p>Record {escape(_describe(trip))} as <strong>{what}</strong>?</p>"
        f"<button type='submit' style='font-size:1.1rem;padding:.6rem 1.2rem'>Yes, it is {what}</button>"
        "</form>"
    )
    return Page(200, _page("Confirm your trip", form))


def record(token: str, secret: bytes, now: datetime, deps: ScanDeps) -> Page:
    checked = _checked(token, secret, now, deps)
    if isinstance(checked, Page):
        return checked
    answer, trip = checked
    deps.repo.put_trip_answer(answer.employee_id, trip.id, answer.purpose, trip.end)
    employee = deps.repo.get_employee(answer.employee_id)
    if employee is not None:
        reassess_employee(employee, deps)
    what = WORDS[answer.purpose]
    thanks = f"<p>Thank you. We recorded {escape(_describe(trip))} as <strong>{what}</strong>.</p>"
    return Page(200, _page("Answer recorded", thanks), recorded=answer)
