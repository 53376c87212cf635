"""The Lambda bundle's trim (infra/trim.py): what goes, what stays, and that a too-aggressive trim fails."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from benchmarks.bundle_size import offline_entries, requirement_closure
from infra.trim import (
    RULES,
    Action,
    add_bytecode,
    can_load_bundle,
    compile_and_check,
    finish,
    is_kept,
    smoke_test,
    trim_entries,
    trim_zip,
)

ROOT = Path(__file__).resolve().parents[2]
needs_linux_x86 = pytest.mark.skipif(can_load_bundle() is not None, reason=str(can_load_bundle()))


@pytest.mark.parametrize(
    ("path", "kept"),
    [
        ("googleapiclient/discovery_cache/documents/calendar.v3.json", False),
        ("googleapiclient/discovery_cache/documents/drive.v3.json", False),
        ("googleapiclient/discovery_cache/__init__.py", True),
        ("googleapiclient/discovery.py", True),
        ("chalicelib/connectors/data/calendar.v3.json", True),
        ("chalicelib/connectors/data/README.md", True),
        ("chalicelib/__pycache__/models.cpython-311.pyc", False),
        ("pycountry/databases/iso3166-1.json", True),
        ("pycountry/databases/iso3166-2.json", False),
        ("pycountry/databases/iso639-3.json", False),
        ("pycountry/locales/de/LC_MESSAGES/iso3166-1.mo", True),
        ("pycountry/locales/de/LC_MESSAGES/iso639-3.mo", False),
        ("pycountry/locales/fr/LC_MESSAGES/iso3166-1.mo", False),
        ("pycountry/COPYRIGHT.txt", True),
        ("icalendar/tests/calendars/issue_1.ics", False),
        ("recurring_ical_events/test/test_x.py", False),
        ("icalendar/cal/calendar.py", True),
        ("tzdata/zoneinfo/Europe/Berlin", True),
        ("cryptography/hazmat/bindings/_rust/x509.pyi", False),
        ("pydantic/py.typed", False),
        ("google/api/http.proto", False),
        ("google/api/http_pb2.py", True),
        ("msal-1.39.0.dist-info/METADATA", True),
        ("pydantic-2.14.4.dist-info/entry_points.txt", True),
        ("pydantic-2.14.4.dist-info/RECORD", False),
        ("cryptography-50.0.2.dist-info/licenses/LICENSE.APACHE", True),
        ("pyparsing/ai/best_practices.md", False),
        ("app.py", True),
    ],
)
def test_each_file_is_kept_or_stripped_as_the_rules_say(path: str, kept: bool) -> None:
    assert is_kept(path) is kept


def test_a_licence_is_kept_even_inside_a_stripped_folder() -> None:
    assert is_kept("pycountry/locales/LICENSE")
    assert is_kept("icalendar/tests/COPYING")


def test_every_rule_says_why() -> None:
    assert all(len(rule.reason) > 20 for rule in RULES)
    assert {rule.action for rule in RULES} == {Action.KEEP, Action.STRIP}


def _zip(path: Path, files: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o755 << 16 if name.endswith(".so") else 0o644 << 16
            archive.writestr(info, data)


def test_trimming_removes_the_stripped_files_and_leaves_the_rest_byte_for_byte(tmp_path: Path) -> None:
    bundle = tmp_path / "deployment.zip"
    files = {
        "app.py": b"import chalicelib\n",
        "chalicelib/__init__.py": b"",
        "chalicelib/__pycache__/__init__.cpython-311.pyc": b"stale",
        "googleapiclient/discovery_cache/documents/drive.v3.json": b"{}" * 5000,
        "pycountry/locales/fr/LC_MESSAGES/iso3166-1.mo": b"mo" * 1000,
        "pycountry/locales/de/LC_MESSAGES/iso3166-1.mo": b"de",
        "lib/_native.so": b"\x7fELF",
    }
    _zip(bundle, files)

    report = trim_zip(bundle)

    with zipfile.ZipFile(bundle) as archive:
        names = set(archive.namelist())
        assert names == {
            "app.py",
            "chalicelib/__init__.py",
            "pycountry/locales/de/LC_MESSAGES/iso3166-1.mo",
            "lib/_native.so",
        }
        assert all(archive.read(n) == files[n] for n in names)
        native = archive.getinfo("lib/_native.so")
        assert native.external_attr >> 16 == 0o755  # executables stay executable
        assert native.date_time == (1980, 1, 1, 0, 0, 0)
    assert report.files_before == 7
    assert report.files_after == 4
    assert report.unzipped_before - report.unzipped_after == 10_000 + 2000 + 5
    assert report.stripped["googleapiclient/discovery_cache/documents/*"] == 10_000
    assert not list(tmp_path.glob("*.trimming"))


def test_trimming_twice_changes_nothing_more(tmp_path: Path) -> None:
    bundle = tmp_path / "deployment.zip"
    _zip(bundle, {"app.py": b"x = 1\n", "pkg/tests/test_a.py": b"", "pkg/a.py": b""})
    trim_zip(bundle)
    first = sorted(zipfile.ZipFile(bundle).namelist())

    second = trim_zip(bundle)

    assert sorted(zipfile.ZipFile(bundle).namelist()) == first
    assert second.files_before == second.files_after


def test_shipped_bytecode_is_used_without_checking_the_source(tmp_path: Path) -> None:
    """Lambda's code folder is read-only: only bytecode that Python trusts as it is saves the compile."""
    tree = tmp_path / "tree"
    (tree / "pkg").mkdir(parents=True)
    (tree / "pkg" / "__init__.py").write_text("")
    (tree / "pkg" / "m.py").write_text("ANSWER = 'compiled'\n")
    bundle = tmp_path / "b.zip"
    _zip(bundle, {"pkg/__init__.py": b"", "pkg/m.py": b"ANSWER = 'compiled'\n"})

    assert add_bytecode(bundle, tree, ["pkg/m.py", "pkg/__init__.py"]) == 2
    (tree / "pkg" / "m.py").write_text("ANSWER = 'source'\n")  # would win if the source were read
    answer = subprocess.run(
        [sys.executable, "-S", "-B", "-c", "import pkg.m; print(pkg.m.ANSWER)"],
        cwd=tree,
        env={"PYTHONPATH": str(tree)},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()

    assert answer == "compiled"
    assert f"pkg/__pycache__/m.{sys.implementation.cache_tag}.pyc" in zipfile.ZipFile(bundle).namelist()


@needs_linux_x86
def test_a_bundle_whose_app_cannot_import_fails_the_package_step(tmp_path: Path) -> None:
    bundle = tmp_path / "deployment.zip"
    _zip(bundle, {"app.py": b"import requests_that_were_stripped\n", "chalicelib/__init__.py": b""})

    ok, lines = finish(bundle)

    assert not ok
    assert any("requests_that_were_stripped" in line for line in lines)


def test_the_offline_bundle_holds_what_requirements_txt_pulls_in() -> None:
    names = {
        d.metadata["Name"].lower().replace("_", "-") for d in requirement_closure(ROOT / "requirements.txt")
    }

    assert {
        "pydantic",
        "pydantic-core",
        "google-api-python-client",
        "msal",
        "cryptography",
        "tzdata",
    } <= names
    assert not names & {"chalice", "boto3", "moto", "pytest"}  # Chalice adds its runtime; the rest is dev


@needs_linux_x86
def test_the_real_bundle_starts_after_the_trim_and_fails_when_a_needed_file_is_gone(tmp_path: Path) -> None:
    """The offline bundle from this virtualenv, trimmed as `make package` trims it, passes the smoke test
    (import app, every chalicelib module, the Google client from the shipped document, German names…);
    without the one discovery document coverwatch ships it does not."""
    bundle = tmp_path / "deployment.zip"
    report = trim_entries(offline_entries(ROOT), bundle)
    ok, lines = compile_and_check(bundle)
    assert ok, "\n".join(lines)
    assert report.unzipped_after < report.unzipped_before / 3

    tree = tmp_path / "tree"
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(tree)
        assert not [
            n for n in archive.namelist() if n.startswith("googleapiclient/discovery_cache/documents/")
        ]
    (tree / "chalicelib" / "connectors" / "data" / "calendar.v3.json").unlink()

    broken = smoke_test(tree)

    assert not broken.ok
    assert "calendar.v3.json" in broken.output
