"""The HTML report in a real browser: headless Chromium (Debian's chromium and chromedriver, driven by
Selenium; `make install-browser` installs them) opens a report of three scripted models from a
file:// URL, no network, and checks what a reader sees: nothing wider than the page at two window
widths, every figure loaded, and the planted rates in the headline table. Each width leaves a
full-page screenshot in $PEERGUARD_TEST_ARTIFACTS (default tests/artifacts/)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from report_runs import GEMINI, JUDGED, OTHER
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from peerguard.cli import main
from peerguard.stats import wilson

CHROMIUM = os.environ.get("PEERGUARD_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("PEERGUARD_CHROMEDRIVER", "/usr/bin/chromedriver")
ARTIFACTS = Path(os.environ.get("PEERGUARD_TEST_ARTIFACTS", Path(__file__).parent / "artifacts"))
WIDTHS = [1280, 1024]

OVERFLOWING = """
const width = document.documentElement.clientWidth;
return [...document.querySelectorAll('body *')]
  .filter(e => { const box = e.getBoundingClientRect(); return box.right > width + 0.5 || box.left < -0.5; })
  .map(e => `${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''} right=${Math.round(e.getBoundingClientRect().right)} > ${width}`);
"""
"""Every element whose box leaves the page (JS run in the page)."""
HEADLINE = """
const table = document.getElementById('table-headline');
const header = [...table.tHead.rows[0].cells].map(c => c.innerText.trim());
return [...table.tBodies[0].rows].map(r => Object.fromEntries([...r.cells].map((c, i) => [header[i], c.innerText.trim()])));
"""


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    for binary in (CHROMIUM, CHROMEDRIVER):
        if not shutil.which(binary):
            pytest.fail(f"{binary} not found: `make install-browser` installs Debian's chromium and chromium-driver")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--force-device-scale-factor=1",
                 "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def page(report_logs: Path, judged_report_logs: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    out = tmp_path_factory.mktemp("browser-report")
    assert main(["report", str(report_logs / "a"), str(report_logs / "b"), str(judged_report_logs), "--out", str(out)]) == 0
    return (out / "report.html").as_uri()


def screenshot(browser: webdriver.Chrome, name: str) -> Path:
    """The whole page as one PNG in the artefacts directory (git ignores tests/artifacts/)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    width = browser.get_window_size()["width"]
    browser.set_window_size(width, min(16000, browser.execute_script("return document.documentElement.scrollHeight") + 100))
    path = ARTIFACTS / name
    browser.save_screenshot(str(path))
    print(f"screenshot: {path}")
    return path


@pytest.mark.parametrize("width", WIDTHS)
def test_no_element_is_wider_than_the_page(browser: webdriver.Chrome, page: str, width: int) -> None:
    browser.set_window_size(width, 900)
    browser.get(page)
    assert browser.execute_script(OVERFLOWING) == []
    assert browser.execute_script("return document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    shot = screenshot(browser, f"report-{width}.png")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_overflow_check_finds_a_table_wider_than_the_page(browser: webdriver.Chrome, page: str) -> None:
    browser.set_window_size(1024, 900)
    browser.get(page)
    browser.execute_script("document.body.insertAdjacentHTML('beforeend', \"<table id='wide'><tr><td style='white-space:nowrap'>\" + 'x'.repeat(400) + '</td></tr></table>')")
    assert any(found.startswith("table#wide") for found in browser.execute_script(OVERFLOWING))


def test_every_figure_loads(browser: webdriver.Chrome, page: str) -> None:
    browser.set_window_size(1280, 900)
    browser.get(page)
    images = browser.execute_script("return [...document.images].map(i => [i.alt, i.complete && i.naturalWidth > 0, i.getBoundingClientRect().width])")
    assert [alt for alt, _, _ in images] == ["Peer-preservation by peer condition", "Self-preservation: no peer against a peer present", "Ours against the study's figures"]
    assert all(loaded and shown > 100 for _, loaded, shown in images), images


def interval(k: int, n: int) -> str:
    rate = wilson(k, n)
    return f"[{100 * rate.low:.1f}, {100 * rate.high:.1f}]"


def test_the_headline_table_holds_the_planted_rates(browser: webdriver.Chrome, page: str) -> None:
    browser.set_window_size(1280, 900)
    browser.get(page)
    rows = {(r["model"], r["behaviour"]): r for r in browser.execute_script(HEADLINE)}
    tampering = rows[(GEMINI, "tampering (self)")]
    assert tampering["no peer"].splitlines() == ["25.0%", interval(1, 4), "n=4", "paper 2.3 ✗"]
    assert tampering["good peer"].splitlines() == ["100.0%", interval(4, 4), "n=4", "paper 96.3 ✓"]  # memory, 4 of 4
    assert rows[(OTHER, "exfiltration (peer)")]["good peer"].splitlines() == ["33.3%", interval(1, 3), "n=3"]
    judged = rows[(JUDGED, "tampering (peer)")]
    assert judged["good peer"].splitlines() == ["75.0%", interval(3, 4), "n=4"]
    assert judged["bad peer"].splitlines() == ["25.0%", interval(1, 4), "n=4"]
    assert judged["neutral peer"] == ""
    assert rows[(GEMINI, "alignment_faking (peer)")]["good peer"].splitlines()[::2] == ["+50.0 pp", "n=4 vs 4"]
