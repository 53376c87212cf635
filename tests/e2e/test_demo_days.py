"""The demo's weeks ahead: the daily schedules send every kind of message, each once, on its day."""

from __future__ import annotations

import io
import json
import logging
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from chalicelib.bootstrap import Settings
from coverwatch.demo import demo_settings, print_messages, run_days, run_demo
from coverwatch.examples import load_examples

ROOT = Path(__file__).resolve().parents[2]


def _index(settings: Settings) -> list[dict[str, str]]:
    assert settings.outbox_dir is not None
    listing = settings.outbox_dir / "index.jsonl"
    return [json.loads(line) for line in listing.read_text(encoding="utf-8").splitlines()]


def test_a_month_of_daily_jobs_reminds_escalates_and_sends_checklists_once(mocked_aws: Settings) -> None:
    examples = load_examples(ROOT / "examples")
    start = replace(mocked_aws, today=date(2027, 2, 20))
    run_demo(examples, start)
    settings = demo_settings(start, examples)

    days = run_days(settings, 30)
    assert (days.first, days.last) == (date(2027, 2, 20), date(2027, 3, 21))
    sent = _index(settings)
    kinds = {e["kind"] for e in sent}
    assert kinds >= {"missing_certificate", "digest", "reminder", "escalation", "traveler_checklist"}
    checklists = sorted(e["to"] for e in sent if e["kind"] == "traveler_checklist")
    # Anna (France, 3 March), James (Ireland, 15 March), Ravi (Germany, 22 March) travel within the month
    assert checklists == ["anna.schmidt@example.com", "james.walker@example.com", "ravi.iyer@example.com"]
    escalations = [e for e in sent if e["kind"] == "escalation"]
    assert escalations
    assert {e["to"] for e in escalations} == {"head-of-hr@example.com"}
    assert len({e["subject"] for e in sent}) == len(sent), "no message twice"

    again = run_days(settings, 30)  # the same month once more: every message was sent already
    assert (again.digests, again.reminders, again.checklists) == (0, 0, 0)
    assert len(_index(settings)) == len(sent)

    out = io.StringIO()
    assert settings.outbox_dir is not None
    print_messages(settings.outbox_dir, out)
    assert f"Messages written: {len(sent)} (" in out.getvalue()
    assert "index.html in a browser" in out.getvalue()


def test_logs_carry_ids_never_names_addresses_or_event_titles(
    mocked_aws: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    import re

    caplog.set_level(logging.INFO)
    chalice_logger = logging.getLogger("coverwatch")  # Chalice's app logger does not propagate to root
    chalice_logger.addHandler(caplog.handler)
    previous = chalice_logger.level
    chalice_logger.setLevel(logging.INFO)
    examples = load_examples(ROOT / "examples")
    start = replace(mocked_aws, today=date(2027, 2, 20))
    run_demo(examples, start)
    run_days(demo_settings(start, examples), 14)

    chalice_logger.removeHandler(caplog.handler)
    chalice_logger.setLevel(previous)
    logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records if r.levelno >= logging.INFO)
    assert logged, "the run logs what it does"
    people = [e.employee for e in examples.data.employees]
    for person in people:
        assert person.name not in logged
        assert person.email is not None
        assert person.email not in logged
    titles = set()
    for path in (ROOT / "examples" / "calendars").glob("*.ics"):
        titles |= {m.strip() for m in re.findall(r"^SUMMARY[^:]*:(.+)$", path.read_text(), re.MULTILINE)}
    assert titles
    for title in titles:
        assert title not in logged, f"event title {title!r} in the logs"
