"""The Analyse page in a real browser: two weeks of demo logs, the charts drawn by plotly, a
click on a bar of the hour chart drills down to the conversations of that hour."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from evaluation.browser import WorkspaceServer, engine_env, run_cli, wait_until_idle
from tests.browser.conftest import ARTIFACTS, WatchedPage

pytestmark = [pytest.mark.slow, pytest.mark.browser]
SLOW_STEP_MS = 180_000


@pytest.fixture(scope="module")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Single-user workspace (loopback) with a bot and 14 days of synthetic logs."""
    root = tmp_path_factory.mktemp("browser-analyse")
    cwd = root / "cwd"
    cwd.mkdir()
    docs = root / "unterlagen"
    docs.mkdir()
    (docs / "reisepass.md").write_text("# Reisepass\n\nEin Reisepass kostet 70,00 Euro.\n",
                                       encoding="utf-8")
    env = engine_env(root / "data")
    run_cli(["ingest", str(docs), "--bot", "demo-bot"], env, cwd=cwd)
    run_cli(["demo-logs", "--bot", "demo-bot", "--days", "14", "--per-day", "30",
             "--no-answers"], env, cwd=cwd)
    with WorkspaceServer(root / "data", ARTIFACTS / "server-analyse.log", env=env,
                         cwd=cwd) as running:
        yield running.url


def test_charts_and_drill_down_from_a_bar(server_url: str, watched: WatchedPage) -> None:
    page = watched.page
    page.goto(f"{server_url}/analyse")
    main = page.get_by_role("main")
    expect(main.get_by_role("heading", name="Analyse", exact=True)).to_be_visible(
        timeout=SLOW_STEP_MS)
    wait_until_idle(page)
    expect(main.get_by_test_id("stMetric").filter(has_text="Gespräche")).to_be_visible()
    charts = main.get_by_test_id("stPlotlyChart")
    expect(charts).to_have_count(4)
    watched.shot("nutzung")

    hours = charts.nth(1)
    bars = hours.locator(".barlayer .point path")
    expect(bars).to_have_count(24)
    # 10 o'clock: office hours, many questions. Plotly takes clicks on its drag layer above
    # the bars and finds the bar under the pointer, as for a person with a mouse.
    hours.scroll_into_view_if_needed()
    box = bars.nth(10).bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] - 5)
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] - 5)

    drill = main.get_by_test_id("stAlert").filter(has_text="Auswahl: Uhrzeit: 10")
    expect(drill).to_be_visible(timeout=SLOW_STEP_MS)
    wait_until_idle(page)
    expect(main.get_by_role("heading", name=re.compile(r"^\d+ Nachrichten$"))).to_be_visible()
    table = main.get_by_test_id("stDataFrame").first
    expect(table).to_be_visible()
    expect(main.get_by_test_id("stChatMessage").first).to_be_visible()  # the transcript
    watched.shot("drill-down-10-uhr")

    main.get_by_role("button", name="Auswahl aufheben").click()
    expect(drill).to_have_count(0, timeout=SLOW_STEP_MS)
    wait_until_idle(page)
    assert not watched.errors, "\n".join(watched.errors)

