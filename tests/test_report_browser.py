"""summary.html in a real headless browser (Debian's chromium): it renders, and the hostile
customer names stay text (nothing executes). Skipped when /usr/bin/chromium is absent."""

from __future__ import annotations

import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from audit.report import write_report
from tests.factories import HOSTILE_NAME, hostile_run_result

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed"),
]
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-extensions",
    "--disable-sync",
]


def chromium(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CHROMIUM), *FLAGS, f"--user-data-dir={cwd / 'profile'}", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
    )


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("browser")
    write_report(hostile_run_result(output={"language": "ko"}), out, ["html"])
    return out / "summary.html"


def _png_size_and_colors(path: Path) -> tuple[int, int, int]:
    """Width, height and the number of distinct row checksums of a PNG (stdlib only)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    idat, pos = b"", 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        if kind == b"IDAT":
            idat += data[pos + 8 : pos + 8 + length]
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = len(raw) // height
    rows = {raw[i * stride + 1 : (i + 1) * stride] for i in range(0, height, 7)}
    return width, height, len(rows)


def test_screenshot_is_a_plausible_non_blank_page(page: Path) -> None:
    shot = page.parent / "summary.png"
    res = chromium(
        "--screenshot=" + str(shot), "--window-size=1280,2000", page.as_uri(), cwd=page.parent
    )
    assert shot.is_file(), res.stderr[-2000:]
    width, height, distinct_rows = _png_size_and_colors(shot)
    assert (width, height) == (1280, 2000)
    assert shot.stat().st_size > 20_000  # text, bars and tables, not a blank page
    assert distinct_rows > 50


def test_hostile_names_stay_text_and_nothing_executes(page: Path) -> None:
    res = chromium("--dump-dom", "--virtual-time-budget=2000", page.as_uri(), cwd=page.parent)
    dom = res.stdout
    assert "<title>" in dom and "PWNED" not in dom.split("</title>")[0]
    assert "<script" not in dom and "<img" not in dom
    assert "&lt;script&gt;document.title='PWNED'&lt;/script&gt;" in dom
    assert "CRM 데이터 품질 보고서" in dom
    assert HOSTILE_NAME not in dom
