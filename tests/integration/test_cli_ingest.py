"""The command line as an operator uses it: real subprocesses on a fresh data folder.

Each heavy call loads the embedding model (~8 s), so the module runs four calls once (the
last three side by side) and the tests look at their results.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipelines.settings import REPO_ROOT
from tests.conftest import closed_port_url
from tests.support import bad_files as bf
from tests.support.cli import Run

pytestmark = pytest.mark.slow

BOT = "neu-bot"
REISEPASS = (
    "# Reisepass\n\n"
    "## Gebühren\n\n"
    "Ein Reisepass kostet 70 Euro und ist zehn Jahre gültig. "
    "Für Personen unter 24 Jahren kostet er 37,50 Euro.\n"
)
SPERRMUELL = (
    "Sperrmüll\n\n"
    "Sperrmüll holt der Entsorgungsbetrieb zweimal im Jahr kostenlos ab.\n"
)
QUESTION = "Was kostet ein Reisepass?"


@dataclass
class Runs:
    good_dir: Path
    bad_file: Path
    ingest_good: Run
    ingest_bad: Run
    bots_list: Run
    ask: Run


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATWERKSTATT_")}
    env.update(
        CHATWERKSTATT_DATA_DIR=str(data_dir),
        CHATWERKSTATT_OLLAMA_HOST=closed_port_url(),
        CHATWERKSTATT_OPENAI_BASE_URL=closed_port_url() + "/v1",
        CHATWERKSTATT_LLM_PROBE_TIMEOUT="0.5",
    )
    return env


def _start(env: dict[str, str], *args: str) -> tuple[list[str], subprocess.Popen[str]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "pipelines", *args],
        cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    return list(args), process


def _finish(started: tuple[list[str], subprocess.Popen[str]]) -> Run:
    args, process = started
    try:
        stdout, stderr = process.communicate(timeout=240)
    except subprocess.TimeoutExpired:
        process.kill()
        stdout, stderr = process.communicate()
    return Run(args, process.returncode, stdout, stderr)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    root = tmp_path_factory.mktemp("cli")
    good = root / "gut"
    good.mkdir()
    (good / "reisepass.md").write_text(REISEPASS, encoding="utf-8")
    (good / "sperrmuell.txt").write_text(SPERRMUELL, encoding="utf-8")
    bad = root / "schlecht"
    bad.mkdir()
    bad_file = bf.binary_as_txt(bad)
    env = _env(root / "data")
    ingest_good = _finish(_start(env, "ingest", str(good), "--bot", BOT, "--json"))
    # The rest only reads what the first call wrote (the bad file adds nothing), so they run
    # side by side to save a model load's worth of waiting.
    started = [
        _start(env, "ingest", str(bad), "--bot", BOT),
        _start(env, "bots", "list", "--json"),
        _start(env, "ask", "--bot", BOT, "--json", QUESTION),
    ]
    ingest_bad, bots_list, ask = (_finish(s) for s in started)
    return Runs(good, bad_file, ingest_good, ingest_bad, bots_list, ask)


def test_ingest_of_good_files_exits_0_with_json_per_file(runs: Runs) -> None:
    run = runs.ingest_good
    assert run.returncode == 0, run.stderr
    payload = run.json()  # stdout is nothing but the JSON document
    assert payload["bot"] == BOT
    assert payload["knowledge_base"] == BOT
    files = {Path(f["path"]).name: f for f in payload["files"]}
    assert set(files) == {"reisepass.md", "sperrmuell.txt"}
    for entry in files.values():
        assert entry["status"] == "neu"
        assert entry["chunks"] >= 1
        assert (entry["code"], entry["reason"], entry["reason_en"]) == ("", "", "")
        assert Path(entry["path"]).parent == runs.good_dir.resolve()


def test_ingest_creates_the_missing_bot_and_says_so_on_stderr(runs: Runs) -> None:
    message = f"Bot '{BOT}' war neu und wurde mit Standardeinstellungen angelegt."
    assert message in runs.ingest_good.stderr
    assert message not in runs.ingest_good.stdout
    # the second ingest finds the bot and does not create it again
    assert "war neu" not in runs.ingest_bad.stderr


def test_ingest_with_a_bad_file_exits_1_and_names_it_on_stderr(runs: Runs) -> None:
    run = runs.ingest_bad
    assert run.returncode == 1, run.stdout + run.stderr
    assert "Fehlgeschlagen:" in run.stderr
    failed = [line for line in run.stderr.splitlines() if str(runs.bad_file.resolve()) in line]
    assert len(failed) == 1
    assert "Binärdaten" in failed[0]
    assert "fehlgeschlagen" in run.stdout and runs.bad_file.name in run.stdout
    assert "1 fehlgeschlagen" in run.stdout


def test_bots_list_shows_the_created_bot(runs: Runs) -> None:
    run = runs.bots_list
    assert run.returncode == 0, run.stderr
    bots = {b["slug"]: b for b in run.json()}
    assert set(bots) == {BOT}
    assert bots[BOT]["version"] == 1
    assert bots[BOT]["name"] == "Neu Bot"


def test_ask_answers_extractively_with_citations(runs: Runs) -> None:
    run = runs.ask
    assert run.returncode == 0, run.stderr
    result = run.json()
    assert result["mode"] == "extractive"
    assert result["no_answer"] is False
    assert result["language"] == "de"
    assert "70 Euro" in result["answer"]
    assert 0.0 < result["confidence"] <= 1.0
    assert result["citations"], result
    assert result["citations"][0]["source"] == "reisepass.md"
    assert all(c["source"] in {"reisepass.md", "sperrmuell.txt"} for c in result["citations"])
    assert result["citations"][0]["section"] == "Reisepass › Gebühren"
    timings = result["timings_ms"]
    assert {"suche", "antwort", "gesamt"} <= set(timings)
    assert all(isinstance(v, int | float) and v >= 0 for v in timings.values())
    assert result["bot"] == BOT
    assert result["notice"]  # says that no language model was reachable
