"""The HTML report in a real headless Chromium, and the PDF report drawn to images.

Chromium is Debian's (``/usr/bin/chromium``, installed by ``.ci/run``), driven by Playwright's
Python package; Playwright's own browser download is never used. Without a Chromium the
browser test is skipped and says why.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path
from typing import Any, Final

import pypdfium2 as pdfium
import pytest
from PIL import Image, ImageStat

from conftest import Tenant
from vigil_common.db import Pool
from vigil_reports import load_report, render

HERE = Path(__file__).parent
CHROMIUM_ARGS: Final = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip


def _builder() -> Any:
    name = "vigil_reports_tests_scan_builder"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, HERE / "scan_builder.py")
        assert spec is not None and spec.loader is not None
        sys.modules[name] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules[name])
    return sys.modules[name]


builder = _builder()


def chromium() -> str | None:
    """Debian's Chromium, wherever it is on PATH."""
    if Path("/usr/bin/chromium").exists():
        return "/usr/bin/chromium"
    return shutil.which("chromium")


def is_blank(image: Image.Image) -> bool:
    """True when every pixel has (nearly) one colour."""
    low, high = zip(*ImageStat.Stat(image.convert("L")).extrema, strict=True)
    return max(high) - min(low) < 10


async def test_the_html_report_shows_its_numbers_in_chromium(
    pool: Pool, tenant: Tenant, tmp_path: Path
) -> None:
    executable = chromium()
    if executable is None:
        pytest.skip("no Chromium found (/usr/bin/chromium): apt-get install -y chromium")
    from playwright.async_api import async_playwright  # noqa: PLC0415 - only when it runs

    scan = await builder.build_scan(pool, tenant.org_id)
    report = await load_report(pool, scan.scan_id)
    assert report is not None
    page_file = tmp_path / "report.html"
    page_file.write_bytes(render(report, "html"))
    errors: list[str] = []
    requests: list[str] = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        page = await browser.new_page(viewport={"width": 1100, "height": 900})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: requests.append(r.url))
        await page.goto(page_file.as_uri())
        shot = tmp_path / "report.png"
        await page.screenshot(path=str(shot), full_page=True)
        text = await page.inner_text("body")
        cards = {key: await page.inner_text(f"#{key} b") for key in ("score", "grade", "findings")}
        counts = {sev: await page.inner_text(f"#count-{sev}") for sev in scan.counts}
        chart_bars = await page.locator("svg rect").count()
        await browser.close()
    assert errors == []
    assert requests == [page_file.as_uri()]  # nothing fetched but the page itself
    assert cards == {"score": f"{scan.score}/100", "grade": scan.grade, "findings": "23"}
    assert counts == {sev: str(n) for sev, n in scan.counts.items()}
    assert chart_bars == len(scan.counts)
    assert "Findings per file" in text and "Why it matters." in text
    assert not is_blank(Image.open(shot))


async def test_the_pdf_report_pages_show_the_numbers(
    pool: Pool, tenant: Tenant, tmp_path: Path
) -> None:
    scan = await builder.build_scan(pool, tenant.org_id)
    report = await load_report(pool, scan.scan_id)
    assert report is not None
    document = pdfium.PdfDocument(render(report, "pdf"))
    assert len(document) > 1
    first = document[0]
    text = first.get_textpage().get_text_range()
    assert f"{scan.score}/100, grade {scan.grade}" in text
    for severity, count in scan.counts.items():
        assert f"{severity} {count}" in text
    image = first.render(scale=1.5).to_pil()
    image.save(tmp_path / "page1.png")
    assert not is_blank(image)
    assert not any(is_blank(page.render(scale=0.5).to_pil()) for page in document)
