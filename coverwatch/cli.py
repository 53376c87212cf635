"""The `coverwatch` command: check a trip, detect trips in files, run the demo, serve the API locally.

`check` and `detect` are contracts other tools script against: their --json output keeps its fields.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TextIO

from pydantic import ValidationError

from chalicelib.bootstrap import settings_from_env
from chalicelib.checks import CheckRequest, check_response, run_check
from chalicelib.countries import country_name, normalize_country
from chalicelib.models import Assessment, Trip

EXIT_INVALID = 2


def _print_assessment(a: Assessment, out: TextIO) -> None:
    doc = f" — {a.document.value} needed" if a.lacks_certificate and a.document else ""
    out.write(f"{a.status.value}{doc}\n")
    if a.instrument:
        i = a.instrument
        out.write(f"Legal basis: {i.title}, {i.article} (in force since {i.in_force_since})\n")
        out.write(f"Source:      {i.source}\n")
    if a.max_months is not None:
        out.write(f"Max posting: {a.max_months} months{' — EXCEEDED' if a.exceeds_max else ''}\n")
    if a.apply_by:
        out.write(f"Apply by:    {a.apply_by}\n")
    out.write(f"\n{a.explanation}\n")
    if a.checklist:
        out.write("\nChecklist:\n" + "".join(f"  - {c}\n" for c in a.checklist))


def _request(args: argparse.Namespace, err: TextIO) -> CheckRequest | None:
    fields = {
        "home_country": args.home,
        "host_country": args.host,
        "start": args.start,
        "end": args.end,
        "nationality": args.nationality,
        "residence_country": args.residence,
        "employment_type": args.employment_type,
        "purpose": args.purpose,
    }
    try:
        return CheckRequest.model_validate({k: v for k, v in fields.items() if v is not None})
    except ValidationError as exc:
        for e in exc.errors(include_url=False):
            err.write(f"error: {'.'.join(map(str, e['loc'])) or 'input'}: {e['msg']}\n")
        return None


def cmd_check(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    request = _request(args, err)
    if request is None:
        return EXIT_INVALID
    decided_on = args.today or settings_from_env().decision_date()
    assessment = run_check(request, [], decided_on)
    if args.json:
        out.write(json.dumps(check_response(assessment), indent=2) + "\n")
    else:
        _print_assessment(assessment, out)
    return 0


def _cite(citation: object) -> str:
    from chalicelib.rules.schema import Citation

    if isinstance(citation, Citation):
        return f"{citation.title} <{citation.url}>"
    return "coverwatch policy (not law)"


def cmd_explain(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from chalicelib.rules import load_rulebook
    from chalicelib.rules.periods import describe
    from chalicelib.rules.trace import trace

    request = _request(args, err)
    if request is None:
        return EXIT_INVALID
    decided_on = args.today or settings_from_env().decision_date()
    a = run_check(request, [], decided_on)
    doc = f" — {a.document.value} needed" if a.lacks_certificate and a.document else ""
    out.write(f"{a.status.value}{doc}\n")
    out.write(f"Decided on:  {a.decided_on}\n")
    if a.instrument:
        i = a.instrument
        out.write(f"Instrument:  {i.title}, {i.article} (in force since {i.in_force_since}) <{i.source}>\n")
    if a.document:
        out.write(f"Document:    {a.document.value}{f' ({a.document_name})' if a.document_name else ''}\n")
    if a.max_months is not None or a.instrument:
        limit = f"{a.max_months} months" if a.max_months is not None else "no fixed limit"
        out.write(f"Max posting: {limit}{' — EXCEEDED' if a.exceeds_max else ''}\n")
    if a.branches:
        out.write(f"Branches:    {', '.join(a.branches)} (kept at home)\n")
    if a.document:
        if a.authority:
            how = f"{a.authority.name}: {a.authority.how} <{a.authority.source}>"
        else:
            home = country_name(request.home_country)
            how = f"not in coverwatch's data — ask the social-security institution in {home}"
        out.write(f"Authority:   {how}\n")
    if a.apply_by:
        passed = " (passed: apply now)" if a.apply_by < a.decided_on else ""
        out.write(f"Apply by:    {a.apply_by}{passed}\n")
    if a.uncovered:
        out.write(f"Uncovered:   {describe(a.uncovered)}\n")
    out.write(f"\n{a.explanation}\n\nRules that fired:\n")
    for fired in trace(a, load_rulebook(), request.home_country):
        out.write(f"  {fired.rule_id} — {fired.meaning}\n")
        for fact in fired.facts:
            out.write(f"      {fact.name}: {fact.value}\n        source: {_cite(fact.citation)}\n")
    if a.checklist:
        out.write("\nChecklist:\n" + "".join(f"  - {c}\n" for c in a.checklist))
    return 0


def cmd_coverage(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from chalicelib.rules import load_rulebook
    from chalicelib.rules.coverage import report

    out.write(report(load_rulebook(), markdown=args.markdown))
    return 0


def _trip_json(trip: Trip) -> dict[str, object]:
    doc = trip.model_dump(mode="json")
    return {
        "country": doc["country"],
        "start": doc["start"],
        "end": doc["end"],
        "purpose": doc["purpose"],
        "confidence": doc["confidence"],
        "evidence": doc["evidence"],
        "id": doc["id"],
        "employee_id": doc["employee_id"],
    }


def cmd_detect(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from chalicelib.connectors.files import read_calendar_file
    from chalicelib.detection.trips import detect_trips

    try:
        home = normalize_country(args.home_country)
    except ValueError as exc:
        err.write(f"error: --home-country: {exc}\n")
        return EXIT_INVALID
    events = []
    for path in args.files:
        if not path.is_file():
            err.write(f"error: {path}: no such file\n")
            return EXIT_INVALID
        result = read_calendar_file(path, args.employee_id)
        events.extend(result.events)
        for p in result.problems:
            where = f"line {p.line}" if p.line else (f"event {p.uid}" if p.uid else "entry")
            err.write(f"warning: {path} ({result.format}): skipped {where}: {p.message}\n")
    trips = detect_trips(args.employee_id, home, events)
    if args.json:
        out.write(json.dumps([_trip_json(t) for t in trips], indent=2) + "\n")
        return 0
    if not trips:
        out.write("No trips abroad found.\n")
    for t in trips:
        out.write(
            f"{country_name(t.country)} ({t.country})  {t.start} – {t.end}  {t.purpose.value}  "
            f"confidence {t.confidence:.0%}\n"
        )
        for e in t.evidence:
            out.write(f"    {e.day}  {e.summary}  [{e.rule}: {e.place or '-'}]\n")
    return 0


def cmd_demo(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from dataclasses import replace

    from coverwatch.demo import (
        demo_settings,
        print_days,
        print_messages,
        print_summary,
        print_table,
        result_json,
        run_days,
        run_demo,
    )
    from coverwatch.examples import load_examples
    from coverwatch.localaws import local_aws

    examples = load_examples(args.examples)
    base = replace(settings_from_env(), outbox_dir=args.outbox.resolve(), today=args.today)
    if base.outbox_dir and base.outbox_dir.exists():
        for old in [*base.outbox_dir.glob("*.eml"), *base.outbox_dir.glob("index.*")]:  # a fresh AWS
            old.unlink()
    out.write("Starting the embedded local AWS (moto) on 127.0.0.1 ...\n")
    with local_aws(base) as settings:
        out.write(f"Local AWS at {settings.endpoint_url}; decisions as of {settings.decision_date()}.\n\n")
        result = run_demo(examples, settings)
        days = run_days(demo_settings(settings, examples), args.days) if args.days > 0 else None
    if args.json:
        out.write(result_json(result) + "\n")
    else:
        print_table(result, out)
        print_summary(result, out)
        if days is not None:
            print_days(days, out)
        if base.outbox_dir:
            print_messages(base.outbox_dir, out)
    return 1 if result.batch.failed else 0


def cmd_serve(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from dataclasses import replace

    from coverwatch.demo import run_demo
    from coverwatch.examples import load_examples
    from coverwatch.localaws import local_aws, provision

    with local_aws(replace(settings_from_env(), outbox_dir=args.outbox.resolve())) as settings:
        provision(settings)
        if not args.empty:
            loaded = run_demo(load_examples(args.examples), settings)
            out.write(
                f"Loaded the examples: {len(loaded.trips)} trips of "
                f"{len(loaded.batch.reports)} employees; try GET /v1/open-cases?from=2027-01-01&to=2027-12-31"
                "\n"
            )
        env = {
            **os.environ,
            "AWS_ENDPOINT_URL": settings.endpoint_url or "",
            "AWS_DEFAULT_REGION": settings.region,
            "COVERWATCH_OUTBOX": str(settings.outbox_dir),
        }
        out.write(f"Local AWS at {settings.endpoint_url}; API on http://127.0.0.1:{args.port}\n")
        out.flush()
        chalice = Path(sys.executable).with_name("chalice")
        cmd = [str(chalice), "local", "--host", "127.0.0.1", "--port", str(args.port), "--stage", "dev"]
        try:
            return subprocess.call(cmd, env=env, cwd=Path(__file__).resolve().parents[1])  # noqa: S603
        except KeyboardInterrupt:
            return 0


def cmd_outbox(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Operators' view of the message outbox in the configured AWS account (or AWS_ENDPOINT_URL)."""
    from chalicelib import bootstrap
    from chalicelib.alerts.outbox import flush_outbox

    settings = settings_from_env()
    repo = bootstrap.repository(settings)
    now = datetime.now(UTC)
    if args.retry:
        employee_id, key = args.retry
        if not repo.retry_failed(employee_id, key, now):
            err.write(f"no failed message {key!r} for employee {employee_id!r}\n")
            return 1
        report = flush_outbox(repo, bootstrap.notifier(settings), now)
        out.write(f"requeued; delivered now: {report.delivered}, still failing: {report.not_delivered}\n")
        return 0 if report.not_delivered == 0 else 1
    failed = repo.failed_messages()
    waiting = repo.due_outbox(now + timedelta(days=1))
    out.write(f"{len(waiting)} message(s) waiting for a retry, {len(failed)} failed for good.\n")
    for f in failed:
        out.write(
            f"- {f.kind.value} to {f.recipient} ({f.channel}), {f.attempts} runs, since {f.claimed_on}: "
            f"{f.last_error}\n  retry: coverwatch outbox --retry {f.employee_id} '{f.key}'\n"
        )
    return 0


def cmd_keys(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Create, list and revoke API keys in the configured AWS account (admins only hold these rights)."""
    from chalicelib import bootstrap
    from chalicelib.api.keys import new_key
    from chalicelib.api.records import Scope

    repo = bootstrap.repository(settings_from_env())
    now = datetime.now(UTC)
    if args.action == "create":
        try:
            scopes = frozenset(Scope(s.strip()) for s in args.scopes.split(",") if s.strip())
        except ValueError:
            err.write(f"--scopes: use a comma-separated list of {', '.join(s.value for s in Scope)}\n")
            return 2
        if not scopes or not args.name:
            err.write("--name and --scopes are required to create a key\n")
            return 2
        expires = datetime.combine(args.expires, datetime.min.time(), tzinfo=UTC) if args.expires else None
        if expires is not None and expires <= now:
            err.write("--expires must be in the future\n")
            return 2
        plaintext, record = new_key(args.name, scopes, now=now, expires_at=expires, rate_per_minute=args.rate)
        repo.put_api_key(record)
        out.write(f"{plaintext}\n")
        err.write(
            f"key {record.id} for {record.name!r} with scopes {', '.join(sorted(scopes))}; "
            "this is the only time the key is shown: store it in the caller's secret store now\n"
        )
        return 0
    if args.action == "revoke":
        found = repo.get_api_key(args.key_id or "")
        if found is None:
            err.write(f"no key {args.key_id!r}\n")
            return 1
        repo.put_api_key(found.model_copy(update={"revoked_at": now}))
        out.write(f"revoked {found.id} ({found.name}); the API stops accepting it within 60 s\n")
        return 0
    for key in sorted(repo.api_keys(), key=lambda k: k.created_at):
        state = "revoked" if key.revoked_at else ("expired" if not key.usable_at(now) else "active")
        until = key.expires_at.date().isoformat() if key.expires_at else "never"
        out.write(
            f"{key.id}  {state:<8} {','.join(sorted(key.scopes)):<24} expires {until:<10} "
            f"{key.rate_per_minute}/min  {key.name}\n"
        )
    return 0


def _trip_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("home", help="country whose social security the employee is in (ISO code, e.g. DE)")
    parser.add_argument("host", help="country of work (ISO code)")
    parser.add_argument("start", help="first day of work abroad, YYYY-MM-DD")
    parser.add_argument("end", help="last day of work abroad, YYYY-MM-DD")
    parser.add_argument("--nationality")
    parser.add_argument("--residence", help="country of residence (default: home)")
    parser.add_argument("--employment-type", choices=["employee", "self_employed", "civil_servant"])
    parser.add_argument("--purpose", choices=["work", "holiday", "transit", "unknown"])
    parser.add_argument("--today", type=date.fromisoformat, help="decision date (default: today)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="coverwatch", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    check = sub.add_parser("check", help="does this trip need an A1 / Certificate of Coverage?")
    _trip_arguments(check)
    check.add_argument("--json", action="store_true", help="print the POST /v1/checks response body")
    check.set_defaults(func=cmd_check)

    explain = sub.add_parser("explain", help="a decision with every rule that fired and its citations")
    _trip_arguments(explain)
    explain.set_defaults(func=cmd_explain)

    coverage = sub.add_parser("coverage", help="which home countries, pairs and agreements the rules know")
    coverage.add_argument("--markdown", action="store_true", help="Markdown, as in docs/coverage.md")
    coverage.set_defaults(func=cmd_coverage)

    detect = sub.add_parser(
        "detect",
        help="list the trips abroad found in calendar and booking files "
        "(.ics, Graph JSON, Google JSON, JSON-LD, .eml)",
    )
    detect.add_argument("--home-country", required=True)
    detect.add_argument("--employee-id", default="cli")
    detect.add_argument("--json", action="store_true")
    detect.add_argument("files", nargs="+", type=Path)
    detect.set_defaults(func=cmd_detect)

    root = Path(__file__).resolve().parents[1]
    demo = sub.add_parser("demo", help="run the main job end to end on the embedded local AWS")
    demo.add_argument("--examples", type=Path, default=root / "examples")
    demo.add_argument("--outbox", type=Path, default=Path("outbox"))
    demo.add_argument("--today", type=date.fromisoformat, help="decision date (default: today)")
    demo.add_argument(
        "--days",
        type=int,
        default=1,
        help="then run the daily jobs (digest, reminders, checklists) for this many days from the "
        "decision date, as time would pass (default 1: today only)",
    )
    demo.add_argument("--json", action="store_true")
    demo.set_defaults(func=cmd_demo)

    outbox = sub.add_parser(
        "outbox", help="messages waiting for a retry or failed for good; --retry puts one back"
    )
    outbox.add_argument("--retry", nargs=2, metavar=("EMPLOYEE_ID", "KEY"))
    outbox.set_defaults(func=cmd_outbox)

    keys = sub.add_parser("keys", help="create, list or revoke API keys (admin)")
    keys.add_argument("action", choices=["create", "list", "revoke"])
    keys.add_argument("key_id", nargs="?", help="the key to revoke")
    keys.add_argument("--name", help="who holds the key, e.g. 'booking tool'")
    keys.add_argument("--scopes", default="", help="comma-separated: check, read, write, admin")
    keys.add_argument("--expires", type=date.fromisoformat, help="YYYY-MM-DD (default: never)")
    keys.add_argument("--rate", type=int, default=600, help="requests per minute (default 600)")
    keys.set_defaults(func=cmd_keys)

    serve = sub.add_parser("serve", help="chalice local backed by the embedded local AWS")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--outbox", type=Path, default=Path("outbox"))
    serve.add_argument("--examples", type=Path, default=root / "examples")
    serve.add_argument("--empty", action="store_true", help="start with an empty store")
    serve.set_defaults(func=cmd_serve)
    return parser


def main(argv: Sequence[str] | None = None, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    args = build_parser().parse_args(argv)
    code: int = args.func(args, out, err)
    return code


if __name__ == "__main__":
    sys.exit(main())
