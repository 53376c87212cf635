"""Run schemathesis against a served coverwatch and reduce the run to what a developer acts on.

Checks: no server errors, and every answer's status, content type and body match the OpenAPI
document. Each failure is reported once per (operation, check, title) with a curl line to reproduce.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests.fuzz.harness import Target

CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
)


@dataclass
class FuzzReport:
    requests: int = 0
    """Requests the app answered (counted from the guard's one log line per request)."""
    cases: int = 0
    """Test cases schemathesis generated and sent."""
    failures: dict[tuple[str, str, str], str] = field(default_factory=dict)
    """(operation, check, title) -> one example: the message and a curl line."""
    errors: list[str] = field(default_factory=list)
    """Operations schemathesis could not test (schema or generation errors)."""

    @property
    def clean(self) -> bool:
        return not self.failures and not self.errors

    def describe(self) -> str:
        lines = [
            f"schemathesis: {self.requests} requests answered ({self.cases} generated cases), "
            f"{len(self.failures)} distinct failures, {len(self.errors)} errors"
        ]
        for (operation, check, title), example in sorted(self.failures.items()):
            lines.append(f"FAIL {operation} [{check}] {title}\n    {example}")
        lines.extend(f"ERROR {error}" for error in self.errors)
        return "\n".join(lines)


def config(target: Target, *, max_examples: int, seed: int, coverage: bool = True, mode: str = "all") -> Any:
    import schemathesis

    return schemathesis.Config.from_dict(
        {
            "seed": seed,
            "cache": {"enabled": False},  # every run starts from the same state: no .schemathesis/ folder
            "auth": {"openapi": {"apiKey": {"bearer": target.key}, "apiKeyHeader": {"api_key": target.key}}},
            "generation": {
                "max-examples": max_examples,
                "mode": mode,
                "deterministic": True,
                "database": "none",
            },
            "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
            "phases": {
                "stateful": {"enabled": False},
                # chalice's local server answers TRACE itself (501, from http.server), before the app
                "coverage": {
                    "enabled": coverage,
                    "unexpected-methods": ["GET", "PUT", "POST", "PATCH", "DELETE", "OPTIONS"],
                },
            },
            "request-timeout": 30,
        }
    )


def run(
    target: Target,
    *,
    max_examples: int,
    seed: int = 2027,
    operation_ids: list[str] | None = None,
    **options: Any,
) -> FuzzReport:
    """Fuzz the served document's operations (all, or ``operation_ids``); count requests and failures."""
    import schemathesis
    from schemathesis.engine import events, from_schema

    schema: schemathesis.BaseSchema = schemathesis.openapi.from_url(
        target.schema_url, config=config(target, max_examples=max_examples, seed=seed, **options)
    )
    if operation_ids is not None:
        schema = schema.include(operation_id=operation_ids)
    report = FuzzReport()
    before = target.requests.total
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            _collect(event.recorder, report)
        elif isinstance(event, events.NonFatalError):
            report.errors.append(f"{event.label}: {event.info.title}: {event.info.message}")
        elif isinstance(event, events.FatalError):
            raise event.exception
    report.requests = target.requests.total - before
    return report


def _collect(recorder: Any, report: FuzzReport) -> None:
    report.cases += len(recorder.interactions)
    for checks in recorder.checks.values():
        for check in checks:
            info = check.failure_info
            if info is None:
                continue
            failure = info.failure
            key = (recorder.label, check.name, failure.title)
            report.failures.setdefault(key, f"{failure.message.strip()[:500]}\n    {info.code_sample}")
