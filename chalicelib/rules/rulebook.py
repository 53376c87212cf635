"""Loads the rules data files into one validated, indexed Rulebook.

Legal facts live in JSON (one file per regime) so that a reviewer can check them against their
citations without reading code. Loading is strict: any problem raises RulebookError naming the file
and the field, and two records of the same precedence claiming the same pair of states is an error,
because the engine could not tell which one applies.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path
from typing import Any, TypeVar

from pydantic import ValidationError

from chalicelib.models import DocumentType
from chalicelib.rules.schema import (
    AuthoritiesFile,
    Authority,
    Completeness,
    DomesticPosition,
    DomesticPositionsFile,
    Gap,
    MultiStateRule,
    Policy,
    Record,
    Regime,
    Strict,
)

POLICY_FILE = "policy.json"
AUTHORITIES_FILE = "authorities.json"
M = TypeVar("M", bound=Strict)
DOMESTIC_FILE = "domestic_positions.json"
MULTI_STATE_FILE = "eu_art13.json"
BILATERAL = 30
"""Precedence of bilateral agreements (the EU regulations are 10, the UK-EU agreement 20)."""


class RulebookError(ValueError):
    """The rules data is broken; the message names the file and the problem."""


@dataclass(frozen=True)
class Match:
    """A record that links a pair of states, with the regime it belongs to."""

    regime: Regime
    record: Record


@dataclass(frozen=True)
class Rulebook:
    regimes: tuple[Regime, ...]
    policy: Policy
    _by_pair: dict[frozenset[str], tuple[Match, ...]] = field(repr=False)
    authorities: AuthoritiesFile | None = None
    """Competent institutions per home country (``authorities.json``), when present."""
    domestic_positions: DomesticPositionsFile | None = None
    """Home-country positions where no instrument applies (``domestic_positions.json``), when present."""
    multi_state: MultiStateRule | None = None
    """The Art. 13 facts behind the "one A1 for several states" suggestion (``eu_art13.json``)."""
    memo: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)
    """Values derived from the data once and reused by the engine (the data itself never changes)."""

    def matches(self, home: str, host: str) -> tuple[Match, ...]:
        """Records linking ``home`` and ``host``, best precedence first."""
        return self._by_pair.get(frozenset((home, host)), ())

    def completeness(self, home: str, host: str) -> Completeness | None:
        """A statement that every agreement of ``home`` or ``host`` is listed, if the data has one."""
        for regime in self.regimes:
            for claim in regime.complete_for:
                if claim.country in (home, host):
                    return claim
        return None

    def record(self, record_id: str) -> Record | None:
        """The record with ``record_id``, in any regime."""
        index: dict[str, Record] | None = self.memo.get("records")
        if index is None:
            index = {r.id: r for regime in self.regimes for r in regime.records}
            self.memo["records"] = index
        return index.get(record_id)

    def authority(self, home: str, document: DocumentType) -> Authority | None:
        """The institution in ``home`` that issues ``document``, when the data names one."""
        if self.authorities is None:
            return None
        for entry in self.authorities.countries:
            if entry.country == home:
                return entry.a1 if document is DocumentType.A1 else entry.coc
        return None

    def domestic_position(self, home: str) -> DomesticPosition | None:
        """What ``home``'s own law says about work abroad without an agreement, when known."""
        if self.domestic_positions is None:
            return None
        return next((p for p in self.domestic_positions.positions if p.country == home), None)

    def gap(self, home: str, host: str) -> tuple[Gap, str] | None:
        """A known gap covering the pair, with the state on the far side of it."""
        for regime in self.regimes:
            for gap in regime.gaps:
                if home in gap.countries and host in gap.partners:
                    return gap, host
                if host in gap.countries and home in gap.partners:
                    return gap, home
        return None


def _parse(name: str, text: str, model: type[M]) -> M:
    try:
        return model.model_validate_json(text, strict=True)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(file)'}: {err['msg']}" for err in exc.errors()
        )
        raise RulebookError(f"{name}: {problems}") from exc


def _overlap(a: Record, b: Record) -> bool:
    """Two in-force periods for the same pair overlap (a signed record overlaps only another signed one)."""
    if a.status == "signed" or b.status == "signed":
        return a.status == b.status
    far = date.max
    return a.effective_since <= (b.in_force_until or far) and b.effective_since <= (a.in_force_until or far)


def _index(regimes: Iterable[Regime]) -> dict[frozenset[str], tuple[Match, ...]]:
    seen: dict[tuple[frozenset[str], int], list[Record]] = {}
    by_pair: dict[frozenset[str], list[Match]] = {}
    for regime in regimes:
        for record in regime.records:
            for pair in record.pairs():
                same = seen.setdefault((pair, regime.precedence), [])
                for other in same:
                    if _overlap(other, record):
                        a, b = sorted(pair)
                        raise RulebookError(
                            f"{regime.id}: pair {a}-{b} in {other.id} and {record.id} with overlapping "
                            f"periods (same precedence {regime.precedence})"
                        )
                same.append(record)
                by_pair.setdefault(pair, []).append(Match(regime, record))
    return {
        pair: tuple(sorted(found, key=lambda m: (m.regime.precedence, m.record.in_force_since or date.max)))
        for pair, found in by_pair.items()
    }


def _check_completeness(regimes: Iterable[Regime], by_pair: dict[frozenset[str], tuple[Match, ...]]) -> None:
    """Every declared partner has a bilateral record, and every bilateral record is declared."""
    for regime in regimes:
        for claim in regime.complete_for:
            recorded = {
                other
                for pair, matches in by_pair.items()
                if claim.country in pair and any(m.regime.precedence >= BILATERAL for m in matches)
                for other in pair - {claim.country}
            }
            declared = set(claim.partners)
            if recorded != declared:
                missing, extra = sorted(declared - recorded), sorted(recorded - declared)
                raise RulebookError(
                    f"{regime.id}: completeness of {claim.country} does not match the records "
                    f"(declared without a record: {missing or 'none'}; "
                    f"recorded but not declared: {extra or 'none'})"
                )


def build(files: Iterable[tuple[str, str]]) -> Rulebook:
    """Build a Rulebook from (file name, JSON text) pairs; ``policy.json`` must be among them."""
    regimes: list[Regime] = []
    policy: Policy | None = None
    authorities: AuthoritiesFile | None = None
    positions: DomesticPositionsFile | None = None
    multi_state: MultiStateRule | None = None
    ids: dict[str, str] = {}
    for name, text in sorted(files):
        if name == POLICY_FILE:
            policy = _parse(name, text, Policy)
            continue
        if name == AUTHORITIES_FILE:
            authorities = _parse(name, text, AuthoritiesFile)
            continue
        if name == DOMESTIC_FILE:
            positions = _parse(name, text, DomesticPositionsFile)
            continue
        if name == MULTI_STATE_FILE:
            multi_state = _parse(name, text, MultiStateRule)
            continue
        regime = _parse(name, text, Regime)
        for record in regime.records:
            if record.id in ids:
                raise RulebookError(f"{name}: record id {record.id} already used in {ids[record.id]}")
            ids[record.id] = name
        regimes.append(regime)
    if policy is None:
        raise RulebookError(f"{POLICY_FILE}: missing (lead days per document are required)")
    if not regimes:
        raise RulebookError("no regime files found")
    regimes.sort(key=lambda r: (r.precedence, r.id))
    by_pair = _index(regimes)
    _check_completeness(regimes, by_pair)
    if multi_state is not None and multi_state.regime not in {r.id for r in regimes}:
        raise RulebookError(f"{MULTI_STATE_FILE}: regime {multi_state.regime!r} is not loaded")
    return Rulebook(tuple(regimes), policy, by_pair, authorities, positions, multi_state)


def _read(directory: Traversable | Path) -> list[tuple[str, str]]:
    return [
        (entry.name, entry.read_text(encoding="utf-8"))
        for entry in directory.iterdir()
        if entry.name.endswith(".json") and entry.is_file()
    ]


@lru_cache(maxsize=1)
def _packaged() -> Rulebook:
    return build(_read(resources.files("chalicelib.rules") / "data"))


def load_rulebook(directory: Path | None = None) -> Rulebook:
    """The packaged rules (cached), or the rules in ``directory`` (for tests and reviews)."""
    if directory is None:
        return _packaged()
    return build(_read(directory))
