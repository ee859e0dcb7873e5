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


@pytest.fixture
def boards_url(sqlite_url):
    """A server whose database holds every kind of board: the published baselines (algorithm
    entries and the social board's three reference players) and two built-in AVs on cav-highway@1."""
    from gymarena.baselines.publish import publish
    from gymarena.cavtest.suite import evaluate_cav_suite
    from gymarena.suites import load_suite

    def quiet(line):
        return None

    with ResultsStore(sqlite_url) as store:
        publish(store, say=quiet)
        for av in ("cav:cautious", "cav:idm"):
            evaluate_cav_suite(store, load_suite("cav-highway@1"), av, say=quiet)
    with running_server(create_app(sqlite_url, reps=200)) as url:
        yield url


def test_every_familys_board_in_the_browser(boards_url, page):
    page.goto(f"{boards_url}/")
    index = page.locator("table#suites").inner_text()
    for family in ("cav", "social", "sc2", "minigrid", "nethack"):
        assert family in page.locator("main, body").first.inner_text()
    sc2 = page.locator("table#suites tr", has_text="sc2-minigames@1")
    assert "Not playable on this server" in sc2.inner_text() and "sc2" in index
    page.screenshot(path=ARTIFACTS / "suites.png", full_page=True)

    page.get_by_role("link", name="cav-highway@1").click()
    page.wait_for_selector("table#ranking")
    assert _agents(page) == ["idm", "cautious"]  # lowest crash rate first
    rate = page.locator("table#ranking thead th", has_text="crash rate per test")
    rate.click()
    rate.click()  # descending: the riskier AV first
    assert _agents(page) == ["cautious", "idm"]
    assert "relative half-width" in page.locator("p.board-about").inner_text()
    page.screenshot(path=ARTIFACTS / "cav-board.png", full_page=True)

    page.goto(f"{boards_url}/suites/social-core@1")
    page.wait_for_selector("table#ranking")
    players = _agents(page)
    trained = [f"social_{condition}_seed{seed}" for condition in ("listening", "speaking", "win") for seed in range(3)]
    assert sorted(players) == ["make_deaf_agent", "random", "scripted", *trained] and players[-1] == "random"
    matrix = page.locator("figure.cross-play svg").last
    assert matrix.is_visible() and "against each pool player" in matrix.inner_html()
    assert matrix.bounding_box()["width"] > 300
    crew = page.locator("table#ranking tbody tr").first.locator("td").nth(5).inner_text()
    assert "[" in crew and "(60)" in crew  # a win rate, its interval, its games
    page.screenshot(path=ARTIFACTS / "social-board.png", full_page=True)

    page.goto(f"{boards_url}/suites/quickstart@1")
    page.wait_for_selector("table#ranking")
    rows = page.locator("table#ranking tbody tr")
    if rows.count():  # ranked here when this machine's simulators are the publisher's
        assert sorted(_agents(page)) == ["DQN", "PPO"]
        assert all("3 training runs" in t for t in page.locator("table#ranking td.unit").all_inner_texts())
        page.locator("table#ranking td.runs a").first.click()
        page.wait_for_selector("h1")
        assert "run" in page.locator("h1").inner_text().lower()
    page.screenshot(path=ARTIFACTS / "quickstart-algorithms.png", full_page=True)

    page.get_by_role("link", name="algorithms").click()
    page.wait_for_selector("table#algorithms")
    assert set(page.locator("table#algorithms td.algorithm").all_inner_texts()) == {
        "DQN", "PPO", "SAC", "CREW-PPO-WIN", "CREW-PPO-LISTENING", "CREW-PPO-SPEAKING"}
    hopper = page.locator("table#algorithms tr", has_text="mujoco/Hopper-v5")
    assert hopper.locator("td.runs").inner_text().startswith("3 (")
    page.screenshot(path=ARTIFACTS / "algorithms.png", full_page=True)
