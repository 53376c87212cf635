"""Size of the Lambda bundle against its targets: the last one ``make package`` built, or one built here.

``make package`` needs PyPI (``chalice package`` downloads the Lambda wheels); ``make bench`` must
not. Without a built bundle, the same archive is assembled offline the way Chalice does it — app.py,
chalicelib/, Chalice's two runtime modules, and every file of every distribution that requirements.txt
pulls in (its dependency closure, read from the installed metadata) — from this virtualenv's
site-packages, then trimmed and compiled by infra/trim.py exactly as ``make package`` does. The
virtualenv was installed by pip on Linux x86_64 for CPython 3.11, so its wheels are the ones Lambda
gets; only versions may differ from a fresh download.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

from infra.trim import (
    FILE_MODE,
    FIXED_TIME,
    can_load_bundle,
    compile_and_check,
    mb,
    trim_entries,
    unzipped_size,
)

ROOT = Path(__file__).resolve().parents[1]
TARGET_ZIPPED = 15_000_000
TARGET_UNZIPPED = 60_000_000


@dataclass(frozen=True)
class BundleSize:
    zipped: int
    unzipped: int
    source: str


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_closure(requirements: Path) -> list[metadata.Distribution]:
    """The installed distributions requirements.txt needs, with their dependencies (markers evaluated
    for this interpreter, extras followed), the way pip would resolve them here."""
    wanted: list[Requirement] = [
        Requirement(line.split("#", 1)[0].strip())
        for line in requirements.read_text(encoding="utf-8").splitlines()
        if line.split("#", 1)[0].strip()
    ]
    seen: dict[str, metadata.Distribution] = {}
    extras_seen: set[tuple[str, str]] = set()
    while wanted:
        requirement = wanted.pop()
        name = _normal(requirement.name)
        extras = requirement.extras or {""}
        new_extras = {e for e in extras if (name, e) not in extras_seen}
        if name in seen and not new_extras:
            continue
        dist = seen.get(name) or metadata.distribution(requirement.name)
        seen[name] = dist
        for extra in new_extras:
            extras_seen.add((name, extra))
            for line in dist.requires or []:
                dependency = Requirement(line)
                if dependency.marker is None or dependency.marker.evaluate({"extra": extra}):
                    wanted.append(dependency)
    return [dist for name, dist in sorted(seen.items()) if name != "chalice"]


def _entry(name: str, data: bytes) -> tuple[zipfile.ZipInfo, bytes]:
    info = zipfile.ZipInfo(name, FIXED_TIME)
    info.external_attr = FILE_MODE
    info.file_size = len(data)
    return info, data


def offline_entries(root: Path = ROOT) -> Iterator[tuple[zipfile.ZipInfo, bytes]]:
    """What ``chalice package`` puts in deployment.zip, from this virtualenv (untrimmed)."""
    import chalice
    import chalice.app

    yield _entry("chalice/app.py", Path(chalice.app.__file__).read_bytes())
    yield _entry("chalice/__init__.py", Path(chalice.__file__).read_bytes())
    yield _entry("app.py", (root / "app.py").read_bytes())
    for path in sorted((root / "chalicelib").rglob("*")):
        if path.is_file():
            yield _entry(path.relative_to(root).as_posix(), path.read_bytes())
    for dist in requirement_closure(root / "requirements.txt"):
        for file in dist.files or []:
            if file.parts[0] == ".." or file.suffix == ".pyc":  # scripts in bin/; pip's own bytecode
                continue
            located = Path(str(dist.locate_file(file)))
            if located.is_file():
                yield _entry(file.as_posix(), located.read_bytes())


def build_offline(target: Path, root: Path = ROOT) -> int:
    """The trimmed, compiled bundle at ``target``, as ``make package`` would build it (no network);
    returns the unzipped size of the untrimmed bundle."""
    report = trim_entries(offline_entries(root), target)
    ok, lines = compile_and_check(target, smoke=False)
    if not ok:
        raise RuntimeError("\n".join(lines))
    return report.unzipped_before


def last_built(root: Path = ROOT) -> Path | None:
    built = sorted((root / "build").glob("*/deployment.zip"), key=lambda p: p.stat().st_mtime)
    return built[-1] if built else None


@contextmanager
def bundle(root: Path = ROOT) -> Iterator[tuple[Path, str]]:
    """The last bundle ``make package`` built, or one built offline for the moment; and what it is."""
    built = last_built(root)
    if built is not None:
        when = datetime.fromtimestamp(built.stat().st_mtime).strftime("%Y-%m-%d %H:%M")
        yield built, f"{built.relative_to(root)} (the last `make package`, {when})"
        return
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "deployment.zip"
        untrimmed = build_offline(target, root)
        yield (
            target,
            (
                "built offline from .venv's site-packages (no `make package` yet), trimmed and compiled by "
                f"infra/trim.py; untrimmed it would unzip to {mb(untrimmed)}"
            ),
        )


def import_from_bundle(archive: Path) -> tuple[float, float] | None:
    """Median ``import app`` in ms inside the unpacked bundle: with the bytecode it ships, and from
    its sources alone (what every cold start would compile without it); None where the bundle's
    wheels cannot load (not Linux x86_64)."""
    from benchmarks.cold_start import bundle_import_ms

    if can_load_bundle() is not None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp)
        with zipfile.ZipFile(archive) as opened:
            opened.extractall(tree)
        shipped = bundle_import_ms(tree)
        for cache in list(tree.rglob("__pycache__")):
            shutil.rmtree(cache)
        sources = bundle_import_ms(tree)
    return shipped, sources


def run(root: Path = ROOT) -> BundleSize:
    with bundle(root) as (archive, source):
        size = BundleSize(archive.stat().st_size, unzipped_size(archive), source)
        imports = import_from_bundle(archive)
    zipped_ok = "meets" if size.zipped <= TARGET_ZIPPED else "MISSES"
    unzipped_ok = "meets" if size.unzipped <= TARGET_UNZIPPED else "MISSES"
    print(f"bundle: {size.source}")
    print(
        f"bundle: {mb(size.zipped)} zipped (target ≤ {mb(TARGET_ZIPPED)}: {zipped_ok}), "
        f"{mb(size.unzipped)} unzipped (target ≤ {mb(TARGET_UNZIPPED)}: {unzipped_ok})"
    )
    if imports is not None:
        print(
            f"bundle: import app inside it (python -S, nothing else on the path): {imports[0]:.1f} ms with "
            f"its bytecode, {imports[1]:.1f} ms from sources alone (a read-only /var/task compiles them "
            "on every cold start)"
        )
    return size
