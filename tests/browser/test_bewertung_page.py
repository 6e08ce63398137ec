"""The Bewertung page in a real browser, driven from the keyboard: start a run of a stored test
set, read its figures and the chart, score an answer on the rubric, and check the page with
axe-core (WCAG 2.1 A/AA) at each step."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from playwright.sync_api import Locator, Page, expect

from evaluation.browser import WorkspaceServer, engine_env, run_cli, wait_until_idle
from tests.browser.conftest import ARTIFACTS, WatchedPage
from tests.support.axe import axe_missing_reason, describe, run_axe, serious_violations

pytestmark = [pytest.mark.slow, pytest.mark.browser]
SLOW_STEP_MS = 180_000
BOT = "bewertungs-bot"
ITEMS = [
    {"id": "r1", "question": "Was kostet ein Reisepass?", "answer": "70,00 Euro",
     "source": "reisepass.md", "kind": "answerable"},
    {"id": "s1", "question": "Wie melde ich Sperrmüll an?", "answer": "online über das "
     "Abfallportal", "source": "sperrmuell.md", "kind": "answerable"},
    {"id": "n1", "question": "Wann hat das Hallenbad geöffnet?", "kind": "no_answer"},
]


@pytest.fixture(scope="module")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Single-user workspace with a bot on two documents and a stored test set of three
    items, imported through the CLI as a town would."""
    root = tmp_path_factory.mktemp("browser-bewertung")
    cwd = root / "cwd"
    cwd.mkdir()
    docs = root / "unterlagen"
    docs.mkdir()
    (docs / "reisepass.md").write_text("# Reisepass\n\nEin Reisepass kostet 70,00 Euro.\n",
                                       encoding="utf-8")
    (docs / "sperrmuell.md").write_text(
        "# Sperrmüll\n\nSperrmüll melden Sie online über das Abfallportal an.\n",
        encoding="utf-8")
    testset = root / "testsatz.jsonl"
    testset.write_text("".join(json.dumps(i, ensure_ascii=False) + "\n" for i in ITEMS),
                       encoding="utf-8")
    env = engine_env(root / "data")
    run_cli(["ingest", str(docs), "--bot", BOT], env, cwd=cwd)
    run_cli(["testset", "import", str(testset), "--name", "Bürgerbüro", "--bot", BOT], env,
            cwd=cwd, module="evaluation")
    with WorkspaceServer(root / "data", ARTIFACTS / "server-bewertung.log", env=env,
                         cwd=cwd) as running:
        yield running.url


def press_on(control: Locator, key: str = "Enter") -> None:
    """Reach a control with the keyboard: focus it the way Tab would land on it, then press."""
    control.focus()
    expect(control).to_be_focused()
    control.press(key)


def assert_accessible(page: Page, step: str) -> None:
    blocking = serious_violations(run_axe(page, "[data-testid='stMain']"))
    assert not blocking, f"{step}: {describe(blocking)}"


def choose_section(page: Page, name: str) -> None:
    main = page.get_by_role("main")
    option = main.get_by_role("radio", name=name)
    press_on(option, " ")
    expect(option).to_be_checked()
    wait_until_idle(page)


def test_a_run_is_started_read_and_scored_from_the_keyboard(server_url: str,
                                                            watched: WatchedPage) -> None:
    if reason := axe_missing_reason():
        pytest.skip(reason)
    page = watched.page
    page.goto(f"{server_url}/bewertung")
    main = page.get_by_role("main")
    expect(main.get_by_role("heading", name="Bewertung", exact=True)).to_be_visible(
        timeout=SLOW_STEP_MS)
    wait_until_idle(page)
    # The imported test set is there, with its three items in the table.
    expect(main.get_by_text("3 aktiv")).to_be_visible()
    assert_accessible(page, "Testsätze")
    watched.shot("testsaetze")

    choose_section(page, "Läufe")
    press_on(main.get_by_role("button", name="Lauf starten"))
    expect(main.get_by_text("Lauf Nr. 1 ist fertig.")).to_be_visible(timeout=SLOW_STEP_MS)
    wait_until_idle(page)
    hit = main.get_by_test_id("stMetric").filter(has_text="Quelle gefunden")
    expect(hit).to_contain_text("100 %")
    behaviour = main.get_by_test_id("stMetric").filter(has_text="Richtiges Verhalten")
    expect(behaviour).to_contain_text("100 %")
    chart = main.get_by_test_id("stPlotlyChart")
    expect(chart).to_have_count(1)
    expect(chart.locator(".barlayer .point path").first).to_be_visible()
    expect(main.get_by_test_id("stDataFrame")).to_be_visible()
    assert_accessible(page, "Läufe")
    watched.shot("lauf")

    choose_section(page, "Menschlich bewerten")
    expect(main.get_by_role("heading", name="Frage r1")).to_be_visible(timeout=SLOW_STEP_MS)
    expect(main.get_by_text("70,00 Euro").first).to_be_visible()
    # The rubric's sliders are reachable and set from the keyboard: "korrekt" up to 5.
    slider = main.get_by_role("slider").first
    for _ in range(2):
        press_on(slider, "ArrowRight")
    expect(slider).to_have_attribute("aria-valuetext", "5")  # what a screen reader says
    press_on(main.get_by_role("button", name="Bewertung speichern und weiter"))
    expect(main.get_by_role("heading", name="Frage s1")).to_be_visible(timeout=SLOW_STEP_MS)
    wait_until_idle(page)
    assert_accessible(page, "Menschlich bewerten")
    watched.shot("bewertet")
    assert not watched.errors, "\n".join(watched.errors)
