"""How long each kind of record is kept: every item in the table gets an ``expires_at`` (DynamoDB TTL).

Why these periods:
- Trips and their assessments are the employer's evidence that contributions were handled correctly;
  contribution claims become time-barred four years after the end of the calendar year in which they
  fell due (e.g. Germany, § 25(1) SGB IV). We keep a trip until 31 December of the fourth year after
  the year it ended, then let it expire.
- A certificate record lives as long as the trips it proves: the same rule, from its validity end.
  A traveler's answer about a trip follows its trip, and so do the trip's history versions, the
  pointer from its id to its employee and HR's override of it (from the later of the trip's end and
  the corrected end).
- Alert records exist only to stop duplicate e-mails: 400 days after they were claimed. The message
  itself (names, destination, dates) is kept only until it is delivered; after that the record holds
  the key and the channels' message ids.
- Calendar sync state is refreshed on every sync; 90 days without a sync means the connection is gone.
- Normalised calendar events (title, place, times: what detection re-reads when a calendar changes)
  expire 90 days after they end, past the 30-day look-back of a sync window.
- Push channels (Graph subscriptions, Google watch channels) expire 400 days after their own expiry.
- A sync lease (which worker is reading a calendar) and a provider's back-off (``Retry-After``) hold
  no personal data and mean nothing once they have run out: a day after that, so the table does
  not keep the leftovers of crashed workers or past throttling.
- The audit trail (who changed what, when: ids and field names only) is evidence like the trips it
  changed: kept until 31 December of the fourth year after the change.
- API keys expire with their own expiry (plus 400 days, so the audit trail's key ids stay explainable);
  keys without an expiry live until revoked and deleted by an admin.
- Employee profiles carry no TTL: they are deleted when the employee leaves (the HR system tells us).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

CONTRIBUTION_LIMITATION_YEARS = 4
ALERT_DAYS = 400
SYNC_STATE_DAYS = 90


def _epoch(d: date) -> int:
    return int(datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp())


def trip_expires_at(trip_end: date) -> int:
    return _epoch(date(trip_end.year + CONTRIBUTION_LIMITATION_YEARS, 12, 31))


def certificate_expires_at(valid_to: date) -> int:
    return trip_expires_at(valid_to)


def alert_expires_at(sent_on: date) -> int:
    return _epoch(sent_on + timedelta(days=ALERT_DAYS))


def sync_state_expires_at(synced_on: date) -> int:
    return _epoch(synced_on + timedelta(days=SYNC_STATE_DAYS))


EVENT_DAYS_AFTER_END = 90


def event_expires_at(event_end: date) -> int:
    return _epoch(event_end + timedelta(days=EVENT_DAYS_AFTER_END))


def audit_expires_at(day: date) -> int:
    return trip_expires_at(day)


def api_key_expires_at(expires_at: datetime) -> int:
    return _epoch(expires_at.date() + timedelta(days=ALERT_DAYS))


RUN_OUT_GRACE = timedelta(days=1)


def lease_expires_at(lease_until: datetime) -> int:
    return int((lease_until + RUN_OUT_GRACE).timestamp())


def backoff_expires_at(backoff_until: datetime) -> int:
    return int((backoff_until + RUN_OUT_GRACE).timestamp())
