"""Real-world .ics samples (kept outside the project): reading them must never blow up."""

from __future__ import annotations

from pathlib import Path

import pytest

from chalicelib.connectors.ics import read_ics_file

SAMPLES = Path(__file__).parents[2].parent / "shared" / "samples" / "ics"


@pytest.mark.filterwarnings("ignore")  # icalendar warns about guessed time zones in old exports
def test_every_real_sample_gives_events_or_problems_and_never_raises() -> None:
    if not SAMPLES.is_dir():
        pytest.skip(f"no real samples at {SAMPLES}")
    files = sorted(SAMPLES.glob("*.ics"))
    assert files, f"{SAMPLES} holds no .ics files"

    silent = []
    for path in files:
        result = read_ics_file(path)
        has_vevent = b"BEGIN:VEVENT" in path.read_bytes().upper()
        # A calendar without any VEVENT (an empty export) legitimately gives neither.
        if has_vevent and not (result.events or result.problems):
            silent.append(path.name)
    assert silent == []
