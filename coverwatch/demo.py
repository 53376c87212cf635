"""The demo: the whole main job, end to end, on the embedded local AWS.

Steps (the production data flow, in one process): provision table/queue/SES sender, load employees
and certificates, register each example calendar as an ICS connection, fan one sync job per
connection out to SQS, drain the queue through the same worker code the Lambda runs (sync the
calendar -> detect -> assess -> store -> alert), then read the stored trips back and print them.
With ``days``, the daily schedules then run day by day as time would pass (HR digest, reminders and
escalation, travelers' checklists), so every kind of message appears. Messages go through SES (moto)
and are copied into an outbox folder. Run it again and every calendar is unchanged: no calendar is
re-read, nothing is written, nothing is sent.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, TextIO

from chalicelib import bootstrap
from chalicelib.alerts.compose import ALERTED
from chalicelib.connectors.base import CalendarSource
from chalicelib.countries import country_name
from chalicelib.jobs import SyncJob, enqueue_sync
from chalicelib.models import Connection, SourceKind
from chalicelib.scan import ScanDeps, ScanReport
from chalicelib.store.repository import StoredTrip
from chalicelib.worker import BatchResult, process_messages
from coverwatch.examples import Examples
from coverwatch.localaws import provision


@dataclass(frozen=True)
class DemoResult:
    batch: BatchResult
    trips: list[tuple[str, StoredTrip]]
    """(employee name, stored trip) for every trip in the store, in table order."""
    outbox: Path | None


def run_demo(examples: Examples, settings: bootstrap.Settings) -> DemoResult:
    settings = demo_settings(settings, examples)
    resources = provision(settings)
    repo = bootstrap.repository(settings)
    for entry in examples.data.employees:
        repo.put_employee(entry.employee)
    for certificate in examples.data.certificates:
        repo.put_certificate(certificate)

    connections = [
        Connection(
            id=f"ics-{entry.employee.id}-{Path(path).stem}",
            employee_id=entry.employee.id,
            source=SourceKind.ICS,
            account=path,
            calendar_id=Path(path).name,
        )
        for entry in examples.data.employees
        for path in examples.calendar_paths(entry)
    ]
    for connection in connections:
        repo.put_connection(connection)
    sqs = bootstrap.aws_client("sqs", settings)
    queue_url = resources["queue_url"]
    enqueue_sync(sqs, queue_url, [SyncJob(connection_id=c.id, reason="manual") for c in connections])
    batch = _drain(sqs, queue_url, bootstrap.scan_deps(settings), bootstrap.sources(settings))

    trips = [
        (entry.employee.name, stored)
        for entry in examples.data.employees
        for stored in repo.trips_of(entry.employee.id)
    ]
    return DemoResult(batch=batch, trips=trips, outbox=settings.outbox_dir)


@dataclass(frozen=True)
class DaysResult:
    """What the daily jobs sent while the demo let ``days`` days pass."""

    first: date
    last: date
    digests: int
    reminders: int
    checklists: int


DEMO_LINK_SECRET = "demo-only-link-secret"  # noqa: S105 - signs links in the local demo only
DEMO_PUBLIC_URL = "http://127.0.0.1:8000"
"""Where `make serve` answers, so the checklists' answer links work against the local API."""


def demo_settings(settings: bootstrap.Settings, examples: Examples) -> bootstrap.Settings:
    """The examples' HR addresses, and answer links pointing at `make serve`, unless configured."""
    return replace(
        settings,
        hr_email=examples.data.hr_email,
        escalation_email=settings.escalation_email or examples.data.escalation_email,
        link_secret=settings.link_secret or DEMO_LINK_SECRET,
        public_base_url=settings.public_base_url or DEMO_PUBLIC_URL,
    )


def run_days(settings: bootstrap.Settings, days: int) -> DaysResult:
    """Run the daily schedules (digest, reminders and escalation, checklists, outbox) for the decision
    date and the ``days`` - 1 days after it, as the deployed schedules would, one day at a time."""
    from chalicelib.alerts.outbox import flush_outbox
    from chalicelib.checklists import send_checklists
    from chalicelib.digest import send_digest
    from chalicelib.reminders import send_reminders

    first = settings.decision_date()
    deps = bootstrap.scan_deps(settings)
    secret = settings.link_secret.encode() if settings.link_secret else None
    digests = reminders = checklists = 0
    for offset in range(days):
        day = first + timedelta(days=offset)
        morning = datetime.combine(day, time(7), tzinfo=UTC)
        today = replace(deps, decided_on=day)
        digests += send_digest(today, send_when_quiet=settings.digest_when_quiet)
        reminders += send_reminders(
            today,
            escalation_email=settings.escalation_email,
            points=settings.reminder_points,
            escalate_within_days=settings.escalate_within_days,
        )
        checklists += send_checklists(
            today,
            now=morning,
            answer_base_url=settings.public_base_url,
            secret=secret,
            days_ahead=settings.checklist_days,
        )
        flush_outbox(deps.repo, deps.notifier, morning)
    return DaysResult(first, first + timedelta(days=max(days - 1, 0)), digests, reminders, checklists)


def print_days(days: DaysResult, out: TextIO) -> None:
    span = f"for {days.first}" if days.first == days.last else f"from {days.first} to {days.last}"
    out.write(
        f"Daily jobs {span}: {days.digests} HR digest(s), {days.reminders} reminder(s) and "
        f"escalation(s), {days.checklists} traveler checklist(s).\n"
    )


_KIND_LABELS = {
    "missing_certificate": "HR alert",
    "reminder": "reminder",
    "escalation": "escalation",
    "resolved": "all-clear",
    "digest": "digest",
    "traveler_checklist": "traveler checklist",
}


def print_messages(folder: Path, out: TextIO) -> None:
    """What landed in the outbox, by kind, and where to open it."""
    listing = folder / "index.jsonl"
    entries = (
        [json.loads(line) for line in listing.read_text(encoding="utf-8").splitlines()]
        if listing.exists()
        else []
    )
    kinds = Counter(_KIND_LABELS.get(e.get("kind", ""), "message") for e in entries)
    out.write(f"\nMessages written: {len(entries)}")
    if kinds:
        out.write(" (" + ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())) + ")")
    out.write(f"\n  Open {folder / 'index.html'} in a browser; each .eml opens in a mail program.\n")
    for entry in entries[:12]:
        out.write(f"  to {entry['to']}: {entry['subject']}\n")
    if len(entries) > 12:
        out.write(f"  … and {len(entries) - 12} more in the index.\n")


def _drain(
    sqs: Any, queue_url: str, deps: ScanDeps, sources: Mapping[SourceKind, CalendarSource]
) -> BatchResult:
    """Receive until the queue is empty, as the Lambda event source mapping would."""
    total = BatchResult()
    while True:
        received = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
        messages = received.get("Messages", [])
        if not messages:
            return total
        result = process_messages(((m["MessageId"], m["Body"]) for m in messages), deps, sources)
        total.reports.extend(result.reports)
        total.synced.extend(result.synced)
        total.failed.update(result.failed)
        done = [m for m in messages if m["MessageId"] not in result.failed]
        if done:
            sqs.delete_message_batch(
                QueueUrl=queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
            )
        if result.failed:  # a real queue would retry, then dead-letter; the demo reports and stops
            return total


def _alert_state(reports: list[ScanReport]) -> dict[str, str]:
    state = {}
    for report in reports:
        for r in report.results:
            state[r.trip.id] = (
                "sent"
                if r.alerted
                else (
                    "already sent"
                    if r.assessment.status in ALERTED and r.trip.end >= r.assessment.decided_on
                    else "-"
                )
            )
    return state


def print_table(result: DemoResult, out: TextIO) -> None:
    alerts = _alert_state(result.batch.reports)
    header = ("Employee", "Destination", "Dates", "Document", "Status", "Apply by", "HR alert")
    rows = []
    for name, stored in result.trips:
        t, a = stored.trip, stored.assessment
        dates = t.start.isoformat() if t.start == t.end else f"{t.start.isoformat()} – {t.end.isoformat()}"
        rows.append(
            (
                name,
                f"{country_name(t.country)} ({t.country})",
                dates,
                a.document.value if a.document else "-",
                "cancelled" if t.cancelled else a.status.value,
                a.apply_by.isoformat() if a.apply_by else "-",
                alerts.get(t.id, "-"),
            )
        )
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=False)]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    out.write(line.format(*header) + "\n" + "  ".join("-" * w for w in widths) + "\n")
    for row in rows:
        out.write(line.format(*row).rstrip() + "\n")


def print_summary(result: DemoResult, out: TextIO) -> None:
    reports = result.batch.reports
    synced = result.batch.synced
    changed = [s for s in synced if not s.unchanged]
    sent = sum(r.alerts_sent for r in reports)
    out.write(
        f"\n{len(synced)} calendars synced ({len(changed)} changed, {len(synced) - len(changed)} unchanged: "
        f"{sum(s.event_writes for s in synced)} event writes), {len(result.trips)} trips stored, "
        f"{sent} HR alert(s) sent through SES now.\n"
    )
    problems = [p for r in reports for p in r.problems]
    for p in problems:
        where = p.calendar_id + (f" line {p.line}" if p.line else "")
        if p.uid:
            where += f" (event {p.uid[:24]}…)" if len(p.uid) > 24 else f" (event {p.uid})"
        out.write(f"Skipped unreadable entry in {where}: {p.message}\n")
    for message_id, reason in result.batch.failed.items():
        out.write(f"Scan job {message_id} failed: {reason}\n")


def result_json(result: DemoResult) -> str:
    return json.dumps(
        [
            {
                "employee": name,
                "trip": s.trip.model_dump(mode="json"),
                "assessment": s.assessment.model_dump(mode="json"),
            }
            for name, s in result.trips
        ],
        indent=2,
    )
