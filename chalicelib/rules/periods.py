"""Which days of a trip recorded certificates cover, and which they leave open.

A certificate counts for a trip when it is the trip's document, issued by the home state, names the
host and overlaps the trip's dates. Several certificates may together cover one trip (e.g. an A1
renewed half-way); the days none of them covers are the trip's uncovered periods.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from chalicelib.models import Certificate, CertificateStatus, DocumentType, Period

ONE_DAY = timedelta(days=1)


def period(start: date, end: date) -> Period:
    """A Period (plain construction is faster than ``model_construct`` in pydantic 2)."""
    return Period(start=start, end=end)


def relevant(
    certificates: Sequence[Certificate],
    *,
    document: DocumentType,
    home: str,
    host: str,
    status: CertificateStatus,
    start: date,
    end: date,
) -> list[Certificate]:
    """The certificates of ``status`` for this document, home and host that overlap start..end."""
    found = [
        c
        for c in certificates
        if c.status is status
        and c.document is document
        and c.issuing_country == home
        and host in c.host_countries
        and c.valid_from <= end
        and start <= c.valid_to
    ]
    found.sort(key=lambda c: (c.valid_from, c.valid_to, c.id))
    return found


def gaps(start: date, end: date, certificates: Sequence[Certificate]) -> tuple[Period, ...]:
    """The runs of days from ``start`` to ``end`` that no certificate's validity covers."""
    if not certificates:
        return (period(start, end),)
    open_from = start
    out: list[Period] = []
    for cert in sorted(certificates, key=lambda c: c.valid_from):
        if cert.valid_from > open_from:
            out.append(period(open_from, min(cert.valid_from - ONE_DAY, end)))
        if cert.valid_to >= open_from:
            open_from = cert.valid_to + ONE_DAY
        if open_from > end:
            return tuple(out)
    out.append(period(open_from, end))
    return tuple(p for p in out if p.start <= p.end)


def within(periods: Sequence[Period], certificates: Sequence[Certificate]) -> bool:
    """True when the certificates cover every day of every period."""
    return all(not gaps(p.start, p.end, certificates) for p in periods)


def describe(periods: Sequence[Period]) -> str:
    """'2027-03-06 to 2027-03-10 (5 days)' and '2027-03-01 (1 day)', joined with 'and'."""
    parts = []
    for p in periods:
        days = p.days
        span = p.start.isoformat() if days == 1 else f"{p.start.isoformat()} to {p.end.isoformat()}"
        parts.append(f"{span} ({days} day{'s' if days != 1 else ''})")
    return " and ".join(parts)
