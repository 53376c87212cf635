"""`make eval`: how well trip detection does on the labelled corpus, measured rather than assumed.

Why: detection is where coverwatch must be right, and "looks right on the demo" says little. This
runner reads every employee's files in tests/eval/corpus (Graph, Google, ICS, JSON-LD bookings),
runs the production detector (``chalicelib.detection.trips.detect_trips``) and compares its trips
with what a careful human concluded (tests/eval/labels.yaml). A predicted trip matches an expected
one when the country is the same and the start and the end are each within one day; matching is
one-to-one, greedy by overlap. It prints what was missed and what was invented (with the evidence
the detector gave), then precision, recall and F1 for trips and for purpose, and the corpus size.
When ../shared/samples exists next to the project, every real-world sample file is read too and
what it yields is printed (there are no labels for those). It reports; it never fails the build.

Purpose figures are computed over the matched trips only: for each purpose (work, holiday,
unknown) precision = right / predicted with that purpose, recall = right / expected with it; the
printed precision, recall and F1 are their macro average, and accuracy is right / matched.
Predicted trips that are cancelled or have purpose "transit" are not stays and are left out.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from chalicelib.connectors.base import SyncWindow
from chalicelib.models import CalendarEvent, Purpose, SourceProblem, Trip

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = ROOT / "tests" / "eval"
SAMPLES = Path(__file__).resolve().parents[1].parent / "shared" / "samples"
SAMPLE_KINDS = ("ics", "graph", "google", "bookings")
WINDOW = SyncWindow(start=date(2026, 1, 1), end=date(2028, 12, 31))
"""Recurrence window for the corpus's .ics files, fixed so the figures do not depend on today."""
TOLERANCE_DAYS = 1
PURPOSES = (Purpose.WORK.value, Purpose.HOLIDAY.value, Purpose.UNKNOWN.value)


@dataclass(frozen=True)
class Span:
    """A trip reduced to what is compared: where, from, to, why (and, for predictions, the evidence)."""

    country: str
    start: date
    end: date
    purpose: str
    notes: str = ""
    evidence: tuple[str, ...] = ()

    def describe(self) -> str:
        days = self.start.isoformat() if self.start == self.end else f"{self.start} – {self.end}"
        return f"{self.country} {days} ({self.purpose})"


@dataclass(frozen=True)
class Labelled:
    id: str
    home: str
    files: tuple[str, ...]
    trips: tuple[Span, ...]
    broken: tuple[str, ...] = ()


@dataclass
class Matching:
    pairs: list[tuple[Span, Span]] = field(default_factory=list)
    """(expected, predicted) pairs."""
    missed: list[Span] = field(default_factory=list)
    extra: list[Span] = field(default_factory=list)


@dataclass
class EmployeeResult:
    id: str
    home: str
    events: int
    expected: int
    predicted: int
    matching: Matching
    problems: list[str] = field(default_factory=list)
    """Problems in files not marked broken, broken files that read cleanly, detector errors."""


def overlap_days(a: Span, b: Span) -> int:
    return max(0, (min(a.end, b.end) - max(a.start, b.start)).days + 1)


def match_trips(
    expected: Sequence[Span], predicted: Sequence[Span], tolerance: int = TOLERANCE_DAYS
) -> Matching:
    """One-to-one matching: same country, start and end each within ``tolerance`` days, most overlap first."""
    candidates = []
    for i, exp in enumerate(expected):
        for j, pred in enumerate(predicted):
            start_off, end_off = abs((pred.start - exp.start).days), abs((pred.end - exp.end).days)
            if pred.country == exp.country and start_off <= tolerance and end_off <= tolerance:
                candidates.append((-overlap_days(exp, pred), start_off + end_off, i, j))
    result = Matching()
    used_expected: set[int] = set()
    used_predicted: set[int] = set()
    for _, _, i, j in sorted(candidates):
        if i not in used_expected and j not in used_predicted:
            used_expected.add(i)
            used_predicted.add(j)
            result.pairs.append((expected[i], predicted[j]))
    result.missed = [exp for i, exp in enumerate(expected) if i not in used_expected]
    result.extra = [pred for j, pred in enumerate(predicted) if j not in used_predicted]
    return result


def scores(true_positive: int, predicted: int, expected: int) -> dict[str, float]:
    precision = true_positive / predicted if predicted else 1.0
    recall = true_positive / expected if expected else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)}


def purpose_scores(pairs: Sequence[tuple[Span, Span]]) -> dict[str, Any]:
    per_class = {}
    for purpose in PURPOSES:
        right = sum(1 for exp, pred in pairs if exp.purpose == purpose and pred.purpose == purpose)
        said = sum(1 for _, pred in pairs if pred.purpose == purpose)
        truth = sum(1 for exp, _ in pairs if exp.purpose == purpose)
        if said or truth:
            per_class[purpose] = {**scores(right, said, truth), "expected": truth, "predicted": said}
    macro = {
        key: round(sum(c[key] for c in per_class.values()) / len(per_class), 4) if per_class else 1.0
        for key in ("precision", "recall", "f1")
    }
    right = sum(1 for exp, pred in pairs if exp.purpose == pred.purpose)
    accuracy = round(right / len(pairs), 4) if pairs else 1.0
    return {**macro, "accuracy": accuracy, "matched": len(pairs), "per_class": per_class}


def load_labels(corpus_dir: Path) -> tuple[Path, list[Labelled]]:
    """The folder holding the employees' files and the labelled employees, from labels.yaml."""
    doc = yaml.safe_load((corpus_dir / "labels.yaml").read_text(encoding="utf-8"))
    files_root = corpus_dir / str(doc.get("corpus", "corpus"))
    employees = [
        Labelled(
            id=str(raw["id"]),
            home=str(raw["home_country"]),
            files=tuple(str(name) for name in raw["files"]),
            trips=tuple(
                Span(
                    str(t["country"]),
                    _day(t["start"]),
                    _day(t["end"]),
                    str(t["purpose"]),
                    str(t.get("notes", "")),
                )
                for t in raw.get("trips") or []
            ),
            broken=tuple(str(name) for name in raw.get("broken_files") or {}),
        )
        for raw in doc["employees"]
    ]
    return files_root, employees


def _day(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def read_file(path: Path, employee_id: str) -> tuple[list[CalendarEvent], list[SourceProblem]]:
    """Events and problems of one corpus file (ICS in a fixed window, the rest by content)."""
    from chalicelib.connectors.files import read_calendar_file
    from chalicelib.connectors.ics import read_ics

    if path.suffix.lower() == ".ics":
        ics = read_ics(path.read_bytes(), calendar_id=path.name, window=WINDOW)
        return ics.events, ics.problems
    read = read_calendar_file(path, employee_id=employee_id)
    return read.events, read.problems


def as_span(trip: Trip) -> Span:
    evidence = tuple(
        f"{e.day} {e.source.value} {e.rule} {e.place or '-'!s}: {e.summary}" for e in trip.evidence
    )
    return Span(trip.country, trip.start, trip.end, trip.purpose.value, evidence=evidence)


def is_stay(trip: Trip) -> bool:
    return not trip.cancelled and trip.purpose is not Purpose.TRANSIT


def evaluate_employee(files_root: Path, person: Labelled) -> EmployeeResult:
    from chalicelib.detection.trips import detect_trips

    events: list[CalendarEvent] = []
    problems: list[str] = []
    for name in person.files:
        found, trouble = read_file(files_root / person.id / name, person.id)
        events.extend(found)
        if name in person.broken and not trouble:
            problems.append(f"{name}: marked broken but read without a problem")
        elif name not in person.broken:
            problems.extend(f"{name}: {p.message}" for p in trouble)
    try:
        predicted = [as_span(t) for t in detect_trips(person.id, person.home, events) if is_stay(t)]
    except Exception as exc:  # another engineer's detector in progress must not stop the report
        problems.append(f"detector failed: {type(exc).__name__}: {exc}")
        predicted = []
    matching = match_trips(person.trips, predicted)
    return EmployeeResult(
        person.id, person.home, len(events), len(person.trips), len(predicted), matching, problems
    )


def evaluate(corpus_dir: Path) -> dict[str, Any]:
    files_root, people = load_labels(corpus_dir)
    results = [evaluate_employee(files_root, person) for person in people]
    pairs = [pair for r in results for pair in r.matching.pairs]
    expected = sum(r.expected for r in results)
    predicted = sum(r.predicted for r in results)
    return {
        "counts": {
            "employees": len(results),
            "events": sum(r.events for r in results),
            "expected_trips": expected,
            "predicted_trips": predicted,
            "matched_trips": len(pairs),
        },
        "trips": scores(len(pairs), predicted, expected),
        "purpose": purpose_scores(pairs),
        "employees": [_employee_json(r) for r in results],
    }


def _employee_json(result: EmployeeResult) -> dict[str, Any]:
    def span(s: Span) -> dict[str, Any]:
        return {
            k: (v.isoformat() if isinstance(v, date) else v)
            for k, v in asdict(s).items()
            if v not in ("", ())
        }

    return {
        "id": result.id,
        "home_country": result.home,
        "events": result.events,
        "missed": [span(s) for s in result.matching.missed],
        "extra": [span(s) for s in result.matching.extra],
        "wrong_purpose": [
            {"expected": span(exp), "predicted": span(pred)}
            for exp, pred in result.matching.pairs
            if exp.purpose != pred.purpose
        ],
        "problems": result.problems,
    }


def sample_report(samples: Path, home: str) -> list[dict[str, Any]]:
    """What each real-world sample file yields: events, trips (relative to ``home``), problems."""
    from chalicelib.connectors.files import read_calendar_file
    from chalicelib.detection.trips import detect_trips

    rows: list[dict[str, Any]] = []
    for kind in SAMPLE_KINDS:
        folder = samples / kind
        for path in sorted(folder.iterdir()) if folder.is_dir() else []:
            row: dict[str, Any] = {"file": f"{kind}/{path.name}", "events": 0, "trips": [], "problems": []}
            try:
                with warnings.catch_warnings():  # icalendar's notes on vendor TZIDs are not findings
                    warnings.simplefilter("ignore")
                    read = read_calendar_file(path, employee_id="samples")
                row["events"] = len(read.events)
                row["problems"] = [p.message for p in read.problems]
                trips = detect_trips("samples", home, read.events)
                row["trips"] = [as_span(t).describe() for t in trips if is_stay(t)]
            except Exception as exc:  # a crash on real data is itself the finding
                row["problems"].append(f"crashed: {type(exc).__name__}: {exc}")
            rows.append(row)
    return rows


def render(report: dict[str, Any]) -> str:
    lines: list[str] = []
    for person in report["employees"]:
        if not (person["missed"] or person["extra"] or person["wrong_purpose"] or person["problems"]):
            continue
        lines.append(f"{person['id']} (home {person['home_country']}):")
        lines += [
            f"  missed  {_text(s)}" + (f"  [{s['notes']}]" if "notes" in s else "") for s in person["missed"]
        ]
        for s in person["extra"]:
            lines.append(f"  extra   {_text(s)}")
            lines += [f"            {line}" for line in s.get("evidence", [])[:4]]
        lines += [
            f"  purpose {_text(w['expected'])} predicted {w['predicted']['purpose']}"
            for w in person["wrong_purpose"]
        ]
        lines += [f"  problem {p}" for p in person["problems"]]
    counts, trips, purpose = report["counts"], report["trips"], report["purpose"]
    classes = ", ".join(purpose["per_class"])
    lines += [
        "",
        f"Corpus: {counts['employees']} employees, {counts['events']} events, "
        f"{counts['expected_trips']} labelled trips; "
        f"{counts['predicted_trips']} predicted, {counts['matched_trips']} matched.",
        f"Trips    {_prf(trips)}  (same country, start and end within one day)",
        f"Purpose  {_prf(purpose)}  accuracy {purpose['accuracy']:.3f}  (macro over {classes}; matched)",
    ]
    for name, c in purpose["per_class"].items():
        lines.append(f"  {name:<8} {_prf(c)}  ({c['expected']} expected, {c['predicted']} predicted)")
    if "samples" in report:
        lines += [
            "",
            f"Samples in {report['samples_dir']} "
            f"(no labels; trips relative to home {report['samples_home']}):",
        ]
        for row in report["samples"]:
            trips_text = "; ".join(row["trips"]) or "no trip"
            lines.append(
                f"  {row['file']}: {row['events']} events, {trips_text}, {len(row['problems'])} problem(s)"
            )
            lines += [f"      {message[:160]}" for message in row["problems"][:3]]
    return "\n".join(lines)


def _prf(figures: dict[str, Any]) -> str:
    return f"precision {figures['precision']:.3f}  recall {figures['recall']:.3f}  F1 {figures['f1']:.3f}"


def _text(span: dict[str, Any]) -> str:
    days = span["start"] if span["start"] == span["end"] else f"{span['start']} – {span['end']}"
    return f"{span['country']} {days} ({span['purpose']})"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m coverwatch.evaluate", description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="folder with labels.yaml")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument(
        "--samples", type=Path, default=SAMPLES, help="real-world samples (read when present)"
    )
    parser.add_argument("--samples-home", default="DE", help="home country for the samples' trips")
    args = parser.parse_args(argv)
    if not (args.corpus / "labels.yaml").is_file():
        print(f"no labels.yaml in {args.corpus}", file=sys.stderr)
        return 2
    report = evaluate(args.corpus)
    if args.samples.is_dir():
        report["samples_dir"] = str(args.samples)
        report["samples_home"] = args.samples_home
        report["samples"] = sample_report(args.samples, args.samples_home)
    print(json.dumps(report, indent=2, ensure_ascii=False) if args.json else render(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
