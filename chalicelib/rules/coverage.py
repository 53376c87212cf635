"""What the rules data knows, as a report: ``coverwatch coverage`` and ``docs/coverage.md``.

The report is generated from the loaded rulebook only (no clock, no environment), so the document in
``docs/`` can be compared with a fresh run in a test and can never drift from the data.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from chalicelib.rules.facts import name
from chalicelib.rules.rulebook import BILATERAL, Rulebook
from chalicelib.rules.schema import Record

_LINK = re.compile(r"\[([^\]]*)\]\(([^)]*)\)")
Row = tuple[str, ...]
Table = tuple[Row, list[Row]]


def _since(record: Record) -> str:
    since = record.in_force_since.isoformat() if record.in_force_since else "not yet known"
    return since + (f" – {record.in_force_until.isoformat()}" if record.in_force_until else "")


def _states(codes: Sequence[str]) -> str:
    return ", ".join(codes) if codes else "-"


def _complete(book: Rulebook) -> Table:
    rows: list[Row] = [
        (
            f"{claim.country} ({name(claim.country)})",
            str(len(claim.partners)),
            f"[{claim.citation.title}]({claim.citation.url})",
            claim.last_reviewed_on.isoformat(),
        )
        for regime in book.regimes
        for claim in regime.complete_for
    ]
    rows.sort()
    return ("home", "partners", "official list", "last reviewed"), rows


def _multilateral(book: Rulebook) -> Table:
    rows: list[Row] = []
    for regime in book.regimes:
        if regime.precedence >= BILATERAL:
            continue
        for r in regime.records:
            if r.partners:
                pairs = f"{_states(r.countries)} with each of {_states(r.partners)}"
            else:
                pairs = f"every pair among {_states(r.countries)}"
            months = str(r.max_posting_months or "none")
            doc = r.document.value
            rows.append((regime.id, r.id, pairs, _since(r), months, doc, r.last_reviewed_on.isoformat()))
    head = ("regime", "record", "pairs", "in force", "max months", "document", "last reviewed")
    return head, rows


def _bilateral(book: Rulebook) -> Table:
    rows: list[Row] = []
    for regime in book.regimes:
        if regime.precedence < BILATERAL:
            continue
        by_home: dict[str, list[Record]] = {}
        for r in regime.records:
            by_home.setdefault(r.countries[0], []).append(r)
        for home, records in sorted(by_home.items()):
            partners = sorted({p for r in records for p in (*r.countries[1:], *r.partners)})
            reviewed = max(r.last_reviewed_on for r in records).isoformat()
            unverified = sorted({p for r in records if not r.max_posting_verified for p in r.partners})
            rows.append(
                (regime.id, home, str(len(partners)), ", ".join(partners), _states(unverified), reviewed)
            )
    head = ("file", "home", "partners", "partner states", "posting limit not verified", "last reviewed")
    return head, rows


def _signed(book: Rulebook) -> Table:
    rows: list[Row] = [
        (
            r.id,
            r.title,
            r.signed_on.isoformat() if r.signed_on else "unknown",
            r.in_force_since.isoformat() if r.in_force_since else "not yet known",
        )
        for regime in book.regimes
        for r in regime.records
        if r.status == "signed"
    ]
    return ("record", "agreement", "signed on", "enters into force"), sorted(rows)


def _gaps(book: Rulebook) -> Table:
    rows: list[Row] = [
        (
            regime.id,
            gap.id,
            f"{_states(gap.countries)} – {_states(gap.partners)}",
            f"[{gap.citation.title}]({gap.citation.url})",
        )
        for regime in book.regimes
        for gap in regime.gaps
    ]
    return ("file", "gap", "pairs", "source"), rows


def _others(book: Rulebook) -> Table:
    rows: list[Row] = []
    if book.authorities is not None:
        countries = sorted(c.country for c in book.authorities.countries)
        rows.append(("competent institutions (authorities.json)", str(len(countries)), ", ".join(countries)))
        timed = sorted(
            c.country
            for c in book.authorities.countries
            if any(a is not None and a.processing_days is not None for a in (c.a1, c.coc))
        )
        rows.append(("published processing times (apply-by from data)", str(len(timed)), ", ".join(timed)))
    if book.domestic_positions is not None:
        positions = sorted(p.country for p in book.domestic_positions.positions)
        rows.append(
            ("domestic positions (domestic_positions.json)", str(len(positions)), ", ".join(positions))
        )
    return ("data", "countries", "which"), rows


SECTIONS = (
    (
        "Home countries declared complete",
        "A pair with one of these states and no agreement in force is "
        "`no_agreement`; any other unknown pair is `needs_review`.",
        _complete,
    ),
    (
        "EU/EEA/Swiss and UK–EU regimes",
        "Applied before any bilateral agreement between the same states.",
        _multilateral,
    ),
    (
        "Bilateral agreements per home",
        "Pairs known per file and home state (in force, replaced or signed).",
        _bilateral,
    ),
    ("Signed, not in force", "Never applied; the explanation names the date the agreement starts.", _signed),
    ("Known gaps", "Pairs coverwatch knows it does not cover yet (answered `needs_review`).", _gaps),
    (
        "Authorities and domestic positions",
        "Where to apply, how long it takes, and home-country law without an agreement.",
        _others,
    ),
)


def _markdown(head: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    if not rows:
        return ["None."]
    lines = ["| " + " | ".join(head) + " |", "| " + " | ".join("---" for _ in head) + " |"]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return lines


def _text(head: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    if not rows:
        return ["  none"]
    return ["  " + "  ".join(f"{h}: {_plain(c)}" for h, c in zip(head, row, strict=True)) for row in rows]


def _plain(cell: str) -> str:
    """'[title](url)' as 'title <url>' for the terminal."""
    return _LINK.sub(r"\1 <\2>", cell)


def report(book: Rulebook, *, markdown: bool = False) -> str:
    """The coverage report, as Markdown (for docs/coverage.md) or plain text."""
    lines: list[str] = []
    if markdown:
        lines += [
            "# Coverage of the rules data",
            "",
            "Generated by `coverwatch coverage --markdown` from `chalicelib/rules/data/`; "
            "a test in `tests/functional/test_cli.py` fails when this file and the data disagree.",
        ]
    for title, intro, build in SECTIONS:
        head, rows = build(book)
        if markdown:
            lines += ["", f"## {title}", "", intro, "", *_markdown(head, rows)]
        else:
            lines += ["", f"{title}:", *_text(head, rows)]
    return "\n".join(lines).lstrip("\n") + "\n"
