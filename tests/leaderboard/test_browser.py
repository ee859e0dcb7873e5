"""The leaderboard in a real browser: Playwright driving Debian's Chromium against a
real uvicorn server. Screenshots go to test-artifacts/ (or $GYMARENA_TEST_ARTIFACTS)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from leaderboard_data import play_both, running_server, tiny_suite
from playwright.sync_api import sync_playwright

from gymarena.leaderboard.app import create_app
from gymarena.results import ResultsStore

CHROMIUM = "/usr/bin/chromium"
# Chromium as root in a closed network: no sandbox, and none of its background traffic.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(os.environ.get("GYMARENA_TEST_ARTIFACTS", Path(__file__).parents[2] / "test-artifacts"))


@pytest.fixture
def server_url(sqlite_url, tmp_path):
    with ResultsStore(sqlite_url) as store:
        play_both(store, tiny_suite(tmp_path), tmp_path)
    with running_server(create_app(sqlite_url, reps=200)) as url:
        yield url


@pytest.fixture
def page():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does)")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser.new_page(viewport={"width": 1280, "height": 900})
        browser.close()


def _agents(page) -> list[str]:
    return page.locator("table#ranking tbody a.agent").all_inner_texts()


def test_ranking_sorts_and_leads_to_the_agent_and_its_plot(server_url, page):
    page.goto(f"{server_url}/")
    page.get_by_role("link", name="tiny@1").click()
    page.wait_for_selector("table#ranking")
    assert _agents(page) == ["make_agent", "random"]
    page.screenshot(path=ARTIFACTS / "ranking.png", full_page=True)
    iqm = page.locator("table#ranking thead th", has_text="IQM").first
    iqm.click()  # ascending: the weaker agent first
    assert _agents(page) == ["random", "make_agent"]
    assert iqm.get_attribute("aria-sort") == "ascending"
    iqm.click()
    assert _agents(page) == ["make_agent", "random"]
    page.screenshot(path=ARTIFACTS / "ranking-sorted.png", full_page=True)
    page.get_by_role("link", name="make_agent").click()
    plot = page.locator("figure.plot img").first
    plot.wait_for()
    assert page.locator("h1").inner_text().startswith("make_agent")
    page.wait_for_function("document.querySelector('figure.plot img').complete")
    assert plot.is_visible() and plot.evaluate("image => image.naturalWidth") > 100  # the SVG loaded and drew
    assert "classic/CartPoleShort-v1" in page.locator("section.run table").first.inner_text()
    page.screenshot(path=ARTIFACTS / "agent.png", full_page=True)
