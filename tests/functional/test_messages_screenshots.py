"""`make screenshots`: every message as HTML, and phone-width PNGs when a browser is there."""

from __future__ import annotations

import stat
import sys
from pathlib import Path

import pytest

from chalicelib.models import Language
from coverwatch import screenshots

NAMES = sorted(f"{name}-{lang.value}" for lang in Language for name in screenshots.samples(lang))


def test_without_chromium_the_html_is_written_and_the_user_told_how_to_install_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert screenshots.main(["--out", str(tmp_path)], browser=lambda: None) == 1
    assert sorted(p.stem for p in tmp_path.glob("*.html")) == NAMES
    assert not list(tmp_path.glob("*.png"))
    out, err = capsys.readouterr()
    assert str(tmp_path / "checklist-de.html") in out.splitlines()
    assert "sudo apt-get install chromium" in err
    assert '<html lang="de">' in (tmp_path / "digest-de.html").read_text("utf-8")


def test_with_a_browser_each_page_is_shot_at_phone_width(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A stand-in browser: records its arguments and writes the PNG it was asked for.
    fake = tmp_path / "fake-chromium"
    fake.write_text(
        f"#!{sys.executable}\n"
        "import sys\n"
        "args = sys.argv[1:]\n"
        "png = next(a.split('=', 1)[1] for a in args if a.startswith('--screenshot='))\n"
        "open(png, 'wb').write(b'PNG')\n"
        "open(png + '.args', 'w').write('\\n'.join(args))\n"
    )
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    out_dir = tmp_path / "shots"
    assert screenshots.main(["--out", str(out_dir)], browser=lambda: str(fake)) == 0
    assert sorted(p.stem for p in out_dir.glob("*.png")) == NAMES
    args = (out_dir / "alert-review-en.png.args").read_text().splitlines()
    assert "--headless" in args
    assert "--window-size=390,1400" in args
    assert args[-1] == (out_dir / "alert-review-en.html").resolve().as_uri()
    assert str(out_dir / "digest-en.png") in capsys.readouterr().out.splitlines()
