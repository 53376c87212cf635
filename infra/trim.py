"""Trim Chalice's ``deployment.zip`` to what coverwatch runs, compile it, and prove it still imports.

    python -m infra.trim build/dev/deployment.zip            # trim in place, then the smoke test
    python -m infra.trim build/dev/deployment.zip --no-smoke

Why: ``chalice package`` ships every file of every wheel. Two thirds of the 180 MB it unpacks to are
google-api-python-client's discovery documents for ~600 Google APIs (coverwatch needs Calendar v3,
which it ships itself in chalicelib/connectors/data/) and pycountry's translations into ~150
languages (coverwatch reads German country names only). A smaller bundle is a faster cold start
(Lambda downloads and unpacks it first) and stays clear of Lambda's 250 MB limit.

``RULES`` decide each file: the first rule whose pattern matches wins; a file no rule matches is kept.
A pattern without ``/`` matches the file name, one with ``/`` the whole path in the archive (shell
wildcards, case-insensitive; ``*`` also crosses ``/``). Licences are kept before anything is stripped.

Then the modules ``import app`` loads (every function's cold start, all of the API's) and chalicelib
get their bytecode (``__pycache__/*.cpython-311.pyc``, PEP 552 hash-based, unchecked). Lambda's code
directory is read-only, so without it Python compiles each module it imports on every cold start:
``import app`` takes about twice as long from bare sources (``make bench`` prints both). Chalice stamps every
entry 1980-01-01, so timestamp-based caches could never match their source; unchecked hash-based ones
need no timestamps. Bytecode for every module any function loads would add ~3.6 MB zipped and break
the 15 MB target; the worker's and notifiers' library modules (msal, Google, icalendar, jinja2) are
compiled at their cold start, where a second matters less than on the API. Chalice picks the Lambda
runtime from the interpreter that runs it, so this interpreter's bytecode is the runtime's.

The smoke test unpacks the trimmed bundle (bytecode included) into a temporary directory and runs
``infra/bundle_smoke.py`` there with nothing but that directory and the standard library on the
path: ``import app``, every module of chalicelib, the Google client built from the shipped document,
German country names, the templates and an ICS file with a recurrence. A rule that strips too much
fails ``make package``.
"""

from __future__ import annotations

import argparse
import fnmatch
import importlib.util
import json
import marshal
import os
import platform
import subprocess
import sys
import tempfile
import zipfile
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path, PurePosixPath

SMOKE_SCRIPT = Path(__file__).with_name("bundle_smoke.py")
FIXED_TIME = (1980, 1, 1, 0, 0, 0)
"""What Chalice stamps on every entry (reproducible bundles); the added bytecode gets the same."""
FILE_MODE = 0o644 << 16
UNCHECKED_HASH_PYC = 0b01
"""PEP 552 flags: hash-based (bit 0), source not checked (bit 1 clear)."""
SMOKE_TIMEOUT_S = 300


class Action(StrEnum):
    KEEP = "keep"
    STRIP = "strip"


@dataclass(frozen=True)
class Rule:
    action: Action
    pattern: str
    reason: str

    def matches(self, path: str) -> bool:
        target = path if "/" in self.pattern else PurePosixPath(path).name
        return fnmatch.fnmatchcase(target.lower(), self.pattern.lower())


KEEP, STRIP = Action.KEEP, Action.STRIP
RULES: tuple[Rule, ...] = (
    Rule(KEEP, "licen[cs]e*", "licences travel with the code they cover (Apache-2.0, BSD and MIT ask it)"),
    Rule(KEEP, "copying*", "licence text (GPL-style name)"),
    Rule(KEEP, "notice*", "Apache-2.0 NOTICE files must be passed on"),
    Rule(KEEP, "copyright*", "licence text (pycountry's COPYRIGHT.txt)"),
    Rule(KEEP, "*.dist-info/licenses/*", "licence files of the wheel (PEP 639 folder)"),
    Rule(
        STRIP,
        "*/__pycache__/*",
        "bytecode from the build machine's work tree: Chalice stamps its source 1980-01-01, so its "
        "timestamp never matches and Python ignores it; fresh bytecode is compiled below",
    ),
    Rule(STRIP, "*.pyc", "stray bytecode outside __pycache__, same reason"),
    Rule(
        KEEP, "chalicelib/*", "coverwatch's own code and data (rules, places, templates, the Google document)"
    ),
    Rule(KEEP, "app.py", "the entry module of every function"),
    Rule(
        STRIP,
        "googleapiclient/discovery_cache/documents/*",
        "discovery documents of ~600 Google APIs (114 MB): the Calendar client is built from "
        "chalicelib/connectors/data/calendar.v3.json (connectors/google_auth.py)",
    ),
    Rule(
        KEEP,
        "pycountry/databases/iso3166-1.json",
        "the countries database: ISO codes and English names (chalicelib/countries.py, connectors)",
    ),
    Rule(
        STRIP,
        "pycountry/databases/*",
        "subdivisions, historic countries, languages, currencies and scripts: never read (pycountry "
        "opens a database on first use only)",
    ),
    Rule(
        KEEP,
        "pycountry/locales/de/LC_MESSAGES/iso3166-1.mo",
        "German country names: countries.country_name(code, 'de') for German messages",
    ),
    Rule(
        STRIP,
        "pycountry/locales/*",
        "translations of every ISO database into ~150 languages (22 MB); messages are English or German",
    ),
    Rule(STRIP, "*/tests/*", "dependencies' own test suites (icalendar, certifi, pycountry): never imported"),
    Rule(STRIP, "*/test/*", "dependencies' own test suites (recurring_ical_events): never imported"),
    Rule(STRIP, "*.pyi", "type stubs: read by type checkers, not at run time"),
    Rule(STRIP, "py.typed", "PEP 561 marker for type checkers"),
    Rule(
        STRIP, "*.proto", "protobuf sources of googleapis-common-protos; the compiled *_pb2.py are imported"
    ),
    Rule(STRIP, "*.dist-info/record", "pip's list of installed files and hashes: not read at run time"),
    Rule(STRIP, "*.dist-info/installer", "pip's bookkeeping: not read at run time"),
    Rule(STRIP, "*.dist-info/requested", "pip's bookkeeping: not read at run time"),
    Rule(STRIP, "*.dist-info/direct_url.json", "pip's bookkeeping: not read at run time"),
    Rule(
        KEEP,
        "*.dist-info/*",
        "METADATA and entry_points.txt: importlib.metadata reads them (package versions, pydantic's "
        "plugin lookup)",
    ),
    Rule(STRIP, "*.md", "dependencies' documentation (coverwatch's own is kept above)"),
    Rule(STRIP, "*.rst", "dependencies' documentation"),
)


def rule_for(path: str) -> Rule | None:
    """The rule that decides ``path`` (an archive name), or None: no rule, the file is kept."""
    return next((rule for rule in RULES if rule.matches(path)), None)


def is_kept(path: str) -> bool:
    rule = rule_for(path)
    return rule is None or rule.action is Action.KEEP


@dataclass
class TrimReport:
    """Sizes in bytes; ``unzipped`` is what Lambda counts against its 250 MB limit."""

    zipped_before: int = 0
    zipped_after: int = 0
    unzipped_before: int = 0
    unzipped_after: int = 0
    files_before: int = 0
    files_after: int = 0
    stripped: Counter[str] = field(default_factory=Counter)
    """Unzipped bytes stripped, by rule pattern."""

    def lines(self) -> list[str]:
        out = [
            f"trimmed bundle: {mb(self.zipped_before)} -> {mb(self.zipped_after)} zipped, "
            f"{mb(self.unzipped_before)} -> {mb(self.unzipped_after)} unzipped, "
            f"{self.files_before} -> {self.files_after} files"
        ]
        out += [f"  stripped {mb(size):>8}  {pattern}" for pattern, size in self.stripped.most_common()]
        return out


def mb(size: int) -> str:
    return f"{size / 1e6:.1f} MB"


def trim_entries(entries: Iterable[tuple[zipfile.ZipInfo, bytes]], target: Path) -> TrimReport:
    """Write the kept entries to a new zip at ``target`` (names, dates and modes unchanged)."""
    report = TrimReport()
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as out:
        for info, data in entries:
            report.files_before += 1
            report.unzipped_before += info.file_size
            rule = rule_for(info.filename)
            if rule is not None and rule.action is Action.STRIP:
                report.stripped[rule.pattern] += info.file_size
                continue
            out.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
            report.files_after += 1
            report.unzipped_after += info.file_size
    report.zipped_after = target.stat().st_size
    return report


def trim_zip(bundle: Path) -> TrimReport:
    """Trim ``bundle`` in place (written beside it, then moved over it: never half-written)."""
    partial = bundle.with_name(bundle.name + ".trimming")
    with zipfile.ZipFile(bundle) as source:
        entries = ((info, source.read(info)) for info in source.infolist() if not info.is_dir())
        report = trim_entries(entries, partial)
    report.zipped_before = bundle.stat().st_size
    os.replace(partial, bundle)
    return report


def unzipped_size(bundle: Path) -> int:
    with zipfile.ZipFile(bundle) as archive:
        return sum(info.file_size for info in archive.infolist())


def bytecode(source: bytes, path: str) -> bytes | None:
    """The unchecked hash-based .pyc of ``source`` for this interpreter; None if it does not compile
    here (Python would fail the same way importing it, so nothing is lost)."""
    try:
        code = compile(source, f"/var/task/{path}", "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        return None
    flags = UNCHECKED_HASH_PYC.to_bytes(4, "little")
    return importlib.util.MAGIC_NUMBER + flags + importlib.util.source_hash(source) + marshal.dumps(code)


def cache_path(path: str) -> str:
    """Where Python looks for the bytecode of ``path`` (``a/b.py`` -> ``a/__pycache__/b.cpython-311.pyc``)."""
    source = PurePosixPath(path)
    return str(source.parent / "__pycache__" / f"{source.stem}.{sys.implementation.cache_tag}.pyc")


def add_bytecode(bundle: Path, tree: Path, paths: Iterable[str]) -> int:
    """Compile the sources ``paths`` of the unpacked ``tree`` into ``bundle`` and ``tree``; how many."""
    count = 0
    with zipfile.ZipFile(bundle, "a", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        present = set(archive.namelist())
        for path in sorted(set(paths)):
            target = cache_path(path)
            compiled = bytecode((tree / path).read_bytes(), path)
            if compiled is None or target in present:
                continue
            info = zipfile.ZipInfo(target, FIXED_TIME)
            info.external_attr = FILE_MODE
            archive.writestr(info, compiled, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
            (tree / target).parent.mkdir(exist_ok=True)
            (tree / target).write_bytes(compiled)
            count += 1
    return count


def can_load_bundle() -> str | None:
    """Why this machine cannot import the bundle's compiled wheels (Lambda: Linux x86_64), or None."""
    if sys.platform != "linux" or platform.machine() not in {"x86_64", "AMD64"}:
        return f"the bundle's wheels are for Linux x86_64, this is {sys.platform} {platform.machine()}"
    return None


@dataclass(frozen=True)
class Run:
    ok: bool
    output: str


def run_in_bundle(tree: Path, code: str, *, timeout: float = SMOKE_TIMEOUT_S) -> Run:
    """Run ``code`` in the unpacked bundle ``tree`` with only it and the standard library on the path.

    ``-S`` leaves site-packages (the dev virtualenv) off ``sys.path`` and the environment is emptied,
    so every import must be satisfied by the bundle itself, as in Lambda.
    """
    env = {
        "PYTHONPATH": str(tree),
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "AWS_DEFAULT_REGION": "eu-central-1",
    }
    try:
        done = subprocess.run(  # noqa: S603 (our interpreter, our code)
            [sys.executable, "-S", "-c", code],
            cwd=tree,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return Run(False, f"did not finish within {timeout:.0f} s")
    return Run(done.returncode == 0, (done.stdout + done.stderr).rstrip())


_LOADED_BY_IMPORT_APP = """
import json, os, sys
import app
root = os.path.realpath(os.getcwd()) + os.sep
files = (os.path.realpath(getattr(m, "__file__", None) or "") for m in list(sys.modules.values()))
print(json.dumps(sorted(f[len(root):] for f in files if f.startswith(root) and f.endswith(".py"))))
"""


def startup_sources(tree: Path) -> list[str]:
    """The bundle's sources ``import app`` loads: every function's cold start, the API's whole one.

    Raises RuntimeError with Python's output when ``import app`` fails in the bundle.
    """
    run = run_in_bundle(tree, _LOADED_BY_IMPORT_APP)
    if not run.ok:
        raise RuntimeError(run.output)
    loaded: list[str] = json.loads(run.output.splitlines()[-1])
    return loaded


def smoke_test(tree: Path) -> Run:
    return run_in_bundle(tree, SMOKE_SCRIPT.read_text(encoding="utf-8"))


def finish(bundle: Path, *, smoke: bool = True) -> tuple[bool, list[str]]:
    """``make package``'s step on Chalice's zip: trim, compile the start-up modules, smoke-test.

    Returns False (with the reason in the lines) when the trimmed bundle cannot start.
    """
    lines = trim_zip(bundle).lines()
    ok, more = compile_and_check(bundle, smoke=smoke)
    return ok, [*lines, *more]


def compile_and_check(bundle: Path, *, smoke: bool = True) -> tuple[bool, list[str]]:
    """Add bytecode for what ``import app`` loads and for chalicelib to a trimmed ``bundle``, then
    run the smoke test (with that bytecode in place); False when the bundle cannot start."""
    reason = can_load_bundle()
    if reason is not None:
        return True, [f"no bytecode and no smoke test: {reason}"]
    with tempfile.TemporaryDirectory(prefix="coverwatch-bundle-") as tmp:
        tree = Path(tmp)
        with zipfile.ZipFile(bundle) as archive:
            archive.extractall(tree)
        try:
            startup = startup_sources(tree)
        except RuntimeError as exc:
            return False, ["FAILED: `import app` fails in the trimmed bundle:", *str(exc).splitlines()[-20:]]
        own = [p.relative_to(tree).as_posix() for p in sorted((tree / "chalicelib").rglob("*.py"))]
        compiled = add_bytecode(bundle, tree, [*startup, *own])
        lines = [
            f"bytecode for {compiled} modules (what `import app` loads, and chalicelib): "
            f"{mb(bundle.stat().st_size)} zipped, {mb(unzipped_size(bundle))} unzipped"
        ]
        if not smoke:
            return True, [*lines, "smoke test skipped"]
        result = smoke_test(tree)
    verdict = "passed" if result.ok else "FAILED: the trim or the bundle is broken"
    return result.ok, [
        *lines,
        f"smoke test of the trimmed bundle {verdict}:",
        *result.output.splitlines()[-20:],
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.trim", description=__doc__.splitlines()[0])
    parser.add_argument("bundle", type=Path, help="Chalice's deployment.zip (trimmed in place)")
    parser.add_argument("--no-smoke", action="store_true", help="skip the import smoke test")
    args = parser.parse_args(argv)
    ok, lines = finish(args.bundle, smoke=not args.no_smoke)
    print("\n".join(lines))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
