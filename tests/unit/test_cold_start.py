"""What each function loads before it works: the API's import stays free of the heavy libraries.

Timings are printed by `make bench` (benchmarks/cold_start.py), never asserted here; these tests check
which modules load, which is what keeps the API's cold start short on any machine.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.cold_start import (
    MARKER,
    ROLES,
    Role,
    handler_names,
    import_code,
    lazy_imports,
    role_modules,
    top_level_ms,
)

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("googleapiclient", "msal", "jinja2", "icalendar", "recurring_ical_events")
"""Google's and Microsoft's clients, the message templates, the ICS parser: worker and notifier only."""


def _loaded_after(code: str) -> set[str]:
    """Top-level packages in ``sys.modules`` after ``code`` runs in a fresh interpreter."""
    script = f"{code}\nimport json, sys\nprint(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}})))"
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def test_importing_app_loads_no_provider_client_template_or_ics_library() -> None:
    loaded = _loaded_after("import app")

    assert "chalicelib" in loaded
    assert not loaded & set(HEAVY)


def test_the_check_would_see_them_if_they_were_loaded() -> None:
    """The worker's connectors do import them: the test above looks in the right place."""
    loaded = _loaded_after(
        "import app, chalicelib.connectors.google_auth, chalicelib.connectors.graph_auth, "
        "chalicelib.connectors.ics, chalicelib.alerts.render\n"
        "chalicelib.alerts.render.environment()\n"
        "chalicelib.connectors.ics.read_ics_file(__import__('pathlib').Path('examples/calendars/anna.schmidt.ics'))"
    )

    assert set(HEAVY) <= loaded


def test_every_scheduled_and_queued_function_is_benchmarked_under_a_role() -> None:
    source = (ROOT / "app.py").read_text(encoding="utf-8")
    benchmarked = {handler for role in ROLES for handler in role.handlers}

    assert handler_names(source) <= benchmarked
    assert {"scan_worker", "fan_out_syncs", "renew_push_channels"} <= handler_names(source)


@pytest.mark.parametrize("role", ROLES, ids=lambda role: role.name)
def test_every_module_a_role_loads_exists(role: Role) -> None:
    source = (ROOT / "app.py").read_text(encoding="utf-8")
    for module in role_modules(role, source):
        assert importlib.util.find_spec(module) is not None, module


def test_a_handlers_own_lazy_imports_count_for_its_role() -> None:
    source = """
@app.schedule(Rate(1, unit=Rate.HOURS))
def tick(event):
    from chalicelib.sync import sync_one
    import jinja2
    return sync_one()

def helper():
    from chalicelib.directory import erase_employee
"""
    assert handler_names(source) == {"tick"}
    assert lazy_imports(source, ("tick",)) == {"chalicelib.sync", "jinja2"}


def test_only_top_level_imports_after_the_marker_are_added_up() -> None:
    output = "\n".join(
        [
            "import time: self [us] | cumulative | imported package",
            "import time:       500 |        900 | site",
            MARKER,
            "import time:       100 |        200 |   pydantic_core",
            "import time:       300 |      40000 | app",
            "import time:        10 |       2500 | boto3",
        ]
    )
    assert top_level_ms(output) == pytest.approx(42.5)


def test_the_measured_code_imports_app_first_then_the_roles_modules() -> None:
    code = import_code(["boto3", "chalicelib.worker"])
    assert code.index("import app") < code.index("import boto3") < code.index("import chalicelib.worker")
    assert code.index(MARKER) < code.index("import app")
