"""Cold start of each function role: what its Lambda imports before it does any work.

Every function's entry module is app.py (Chalice puts all handlers in it); a handler then imports
what it needs on its first call — its own ``from chalicelib… import`` lines in app.py, read here from
the source so the figures follow the code, and what the bootstrap helpers it calls import (listed in
``Role.loads``, with boto3: Lambda's runtime ships it, but importing it is still start-up time).

Each figure is the median of several fresh interpreters with ``python -X importtime``: the sum of the
top-level imports after the interpreter's own start, with the bytecode cache warm (as in the bundle,
which ships the start-up modules' bytecode, see infra/trim.py). The machine may be shared with other
work: figures move by ±10 %.
"""

from __future__ import annotations

import ast
import os
import re
import statistics
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_API_MS = 150.0
RUNS = 5
MARKER = "@@coverwatch-imports-start"
_LINE = re.compile(r"import time:\s+\d+ \|\s+(\d+) \| ( *)(\S+)")


@dataclass(frozen=True)
class Role:
    name: str
    handlers: tuple[str, ...]
    """Functions of app.py this role runs (Chalice handler names); "" = the API's routes."""
    loads: tuple[str, ...]
    """What the bootstrap helpers its handlers call import on the first call."""


_NOTIFIER = ("chalicelib.alerts.notifier", "chalicelib.alerts.chat", "chalicelib.scan")
"""bootstrap.notifier() and scan_deps(): SES, HR's chat, the scan dependencies."""
ROLES = (
    Role("API", (), ()),
    Role("fan-out scheduler", ("fan_out_syncs",), ("boto3",)),
    Role(
        "scan worker",
        ("scan_worker",),
        (
            "boto3",
            *_NOTIFIER,
            "chalicelib.connectors.registry",
            "chalicelib.connectors.graph",  # bootstrap.sources(): Graph and Google when configured
            "chalicelib.connectors.graph_auth",
            "chalicelib.connectors.google",
            "chalicelib.connectors.google_auth",
        ),
    ),
    Role(
        "notifier schedules",
        ("deliver_outbox", "send_hr_digest", "send_hr_reminders", "send_traveler_checklists"),
        ("boto3", *_NOTIFIER, "jinja2"),  # jinja2: alerts.render imports it on the first message
    ),
    Role(
        "channel renewer",
        ("renew_push_channels",),
        (
            "boto3",
            "chalicelib.connectors.graph",  # bootstrap.channel_managers(): on the first renewal
            "chalicelib.connectors.graph_auth",
            "chalicelib.connectors.graph_subscriptions",
            "chalicelib.connectors.google_auth",
            "chalicelib.connectors.google_watch",
        ),
    ),
)


def handler_names(app_source: str) -> set[str]:
    """Every function of app.py that Chalice runs on a schedule or a queue (not an HTTP route)."""
    names = set()
    for node in ast.parse(app_source).body:
        if isinstance(node, ast.FunctionDef):
            for decorator in node.decorator_list:
                call = decorator.func if isinstance(decorator, ast.Call) else decorator
                if isinstance(call, ast.Attribute) and call.attr in {"schedule", "on_sqs_message"}:
                    names.add(node.name)
    return names


def lazy_imports(app_source: str, handlers: tuple[str, ...]) -> set[str]:
    """The modules ``handlers`` import inside their bodies."""
    found: set[str] = set()
    for node in ast.parse(app_source).body:
        if isinstance(node, ast.FunctionDef) and node.name in handlers:
            for inner in ast.walk(node):
                if isinstance(inner, ast.ImportFrom) and inner.module and not inner.level:
                    found.add(inner.module)
                elif isinstance(inner, ast.Import):
                    found.update(alias.name for alias in inner.names)
    return found


def role_modules(role: Role, app_source: str) -> list[str]:
    """What ``role`` imports after app.py, in a stable order."""
    return sorted(set(role.loads) | lazy_imports(app_source, role.handlers))


def import_code(modules: list[str]) -> str:
    imports = "".join(f"import {m}\n" for m in ["app", *modules])
    return f"import sys\nsys.stderr.write({MARKER!r} + '\\n')\n{imports}"


def top_level_ms(importtime_output: str) -> float:
    """The sum of the top-level imports after the marker, in ms (nested ones are inside them)."""
    lines = importtime_output.split(MARKER, 1)[-1].splitlines()
    micros = sum(int(m.group(1)) for m in map(_LINE.match, lines) if m and not m.group(2))
    return micros / 1000


def _environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    """This environment without a bytecode opt-out: caches are written once and then used."""
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX"}}
    env.update({"AWS_DEFAULT_REGION": "eu-central-1", **(extra or {})})
    return env


def import_ms(
    modules: list[str],
    *,
    root: Path = ROOT,
    python_args: tuple[str, ...] = (),
    env: dict[str, str] | None = None,
) -> float:
    """One fresh interpreter's import time of app.py and ``modules``, run in ``root``."""
    done = subprocess.run(
        [sys.executable, *python_args, "-X", "importtime", "-c", import_code(modules)],
        cwd=root,
        env=env or _environment(),
        capture_output=True,
        text=True,
        check=True,
    )
    return top_level_ms(done.stderr)


def median_import_ms(
    modules: list[str],
    *,
    runs: int = RUNS,
    root: Path = ROOT,
    python_args: tuple[str, ...] = (),
    env: dict[str, str] | None = None,
) -> float:
    """The median of ``runs`` fresh interpreters, after one untimed run that writes the bytecode caches."""
    import_ms(modules, root=root, python_args=python_args, env=env)
    return statistics.median(
        import_ms(modules, root=root, python_args=python_args, env=env) for _ in range(runs)
    )


_FIRST_REQUEST = """
import json, os, statistics, time
os.environ.update({"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
                   "COVERWATCH_TODAY": "2027-01-15"})
os.environ.pop("AWS_ENDPOINT_URL", None)
import app as app_module
from chalice.test import Client
from moto import mock_aws
from chalicelib import bootstrap
from chalicelib.api.keys import new_key
from chalicelib.api.records import Scope
from coverwatch.localaws import provision

body = json.dumps({"home_country": "DE", "host_country": "FR", "start": "2027-03-01", "end": "2027-03-05"})
with mock_aws():
    settings = bootstrap.default_settings()
    provision(settings)
    key, record = new_key("bench", frozenset({Scope.CHECK}), rate_per_minute=100_000)
    bootstrap.repository(settings).put_api_key(record)
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    with Client(app_module.app, stage_name="dev") as client:
        times = []
        for _ in range(6):
            started = time.perf_counter()
            assert client.http.post("/v1/checks", headers=headers, body=body).status_code == 200
            times.append((time.perf_counter() - started) * 1000)
print(json.dumps({"first": times[0], "warm": statistics.median(times[1:])}))
"""


def first_request_ms(root: Path = ROOT, runs: int = RUNS) -> tuple[float, float]:
    """Median first and warm ``POST /v1/checks`` in ms, in fresh processes (in-process moto).

    The first one pays what the import left for later: the models' validators (``defer_build``),
    pycountry, the rulebook, the API key's DynamoDB read and boto3's client set-up.
    """
    import json

    firsts, warms = [], []
    for _ in range(runs):
        done = subprocess.run(
            [sys.executable, "-c", _FIRST_REQUEST],
            cwd=root,
            env=_environment(),
            capture_output=True,
            text=True,
            check=True,
        )
        figures = json.loads(done.stdout.strip().splitlines()[-1])
        firsts.append(figures["first"])
        warms.append(figures["warm"])
    return statistics.median(firsts), statistics.median(warms)


def bundle_import_ms(tree: Path, runs: int = RUNS) -> float:
    """``import app`` inside an unpacked bundle with nothing else on the path (as infra/trim.py's
    smoke test): what a Lambda cold start imports, from the bytecode the bundle ships (or its
    sources, when it ships none)."""
    env = {"PYTHONPATH": str(tree), "PYTHONDONTWRITEBYTECODE": "1", "PATH": os.environ.get("PATH", "")}
    return median_import_ms([], root=tree, python_args=("-S",), env=env, runs=runs)


def run(root: Path = ROOT) -> dict[str, float]:
    source = (root / "app.py").read_text(encoding="utf-8")
    unassigned = handler_names(source) - {h for role in ROLES for h in role.handlers}
    figures: dict[str, float] = {}
    print(f"cold start: import time before work, median of {RUNS} fresh interpreters (python -X importtime)")
    for role in ROLES:
        modules = role_modules(role, source)
        figures[role.name] = ms = median_import_ms(modules, root=root)
        target = ""
        if role.name == "API":
            target = f" (target ≤ {TARGET_API_MS:g} ms: {'meets' if ms <= TARGET_API_MS else 'MISSES'})"
        loaded = f"app + {', '.join(modules)}" if modules else "app"
        print(f"  {role.name:<20} {ms:6.1f} ms{target}  [{loaded}]")
    if unassigned:
        print(f"  not benchmarked (no role in benchmarks/cold_start.py): {', '.join(sorted(unassigned))}")
    first, warm = first_request_ms(root)
    figures["API first request"], figures["API warm request"] = first, warm
    print(
        f"  API first POST /v1/checks after the import: {first:.1f} ms (warm: {warm:.1f} ms; the difference "
        "is the deferred model builds, pycountry, the rulebook and boto3's first client)"
    )
    return figures
