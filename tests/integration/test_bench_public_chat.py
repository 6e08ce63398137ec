"""The public-chat load benchmark end to end: a real `python -m apps.public_chat` on the
Musterstadt sample data, simulated citizens over loopback, the turns counted in the store.

The sample data is built once per module (`python -m pipelines sample`, about a minute); each
test runs on its own copy, so the store holds exactly what that test's run logged.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from evaluation import bench_public_chat
from evaluation.browser import engine_env, run_cli
from pipelines.bots import BotRepository
from pipelines.engine import Engine
from pipelines.settings import REPO_ROOT, Settings
from pipelines.store.db import get_engine
from pipelines.store.models import Conversation, Message

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


@pytest.fixture(scope="module")
def sample_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("bench-public-chat")
    cwd = root / "cwd"  # no .env of the developer's checkout
    cwd.mkdir()
    run_cli(["sample"], engine_env(root / "data"), cwd=cwd)
    return root / "data"


@pytest.fixture
def data_dir(sample_data: Path, tmp_path: Path) -> Path:
    shutil.copytree(sample_data, tmp_path / "data")
    return tmp_path / "data"


@pytest.fixture
def store(data_dir: Path) -> Iterator[Engine]:
    """The copy's store as the test reads it, independent of the bench's own counting."""
    settings = Settings(_env_file=None, data_dir=data_dir)  # type: ignore[call-arg]
    yield Engine(settings)
    get_engine(settings.resolved_database_url).dispose()


def test_streamed_load_is_answered_and_every_turn_logged(data_dir: Path, store: Engine) -> None:
    payload = bench_public_chat.run(users=4, seconds=8, data_dir=data_dir, think_seconds=0.1,
                                    stream=True, say=None)

    assert payload["errors"] == 0, payload["error_reasons"]
    assert payload["turns"] > 0
    assert payload["successful_turns"] == payload["turns"]
    assert payload["logged_turns"] == payload["turns"]
    assert payload["logged_matches_successful"] is True
    # Every citizen keeps the conversation the server gave it on the first turn.
    assert payload["conversations"] == 4
    assert payload["logged_channels"] == {"api": 4}
    total, first = payload["latency_ms"], payload["first_delta_ms"]
    assert 0 < total["p50_ms"] <= total["p95_ms"] <= total["p99_ms"] <= total["max_ms"]
    assert first is not None and 0 < first["p50_ms"] <= first["p95_ms"]
    assert first["max_ms"] <= total["max_ms"]  # the first piece never after the whole answer
    assert payload["turns_per_second"] > 0
    assert sum(payload["modes"].values()) == payload["turns"]
    assert "extractive" in payload["modes"] and "llm" not in payload["modes"]
    assert payload["warmup_ok"] is True
    assert payload["server"]["settings"]["CHATWERKSTATT_PUBLIC_SESSION_TURNS_PER_MINUTE"] == \
        str(bench_public_chat.RAISED_TURNS_PER_MINUTE)

    # Read the store directly: the run's turns plus the warm-up turn, all through the API.
    with store.session() as session:
        messages = session.scalar(select(func.count(Message.id)))
        channels = session.scalars(select(Conversation.channel)).all()
    assert messages == payload["turns"] + 1
    assert channels and set(channels) == {"api"}
    assert len(channels) == payload["conversations"] + 1


def test_answers_in_one_piece_are_counted_too(data_dir: Path) -> None:
    payload = bench_public_chat.run(users=3, seconds=4, data_dir=data_dir, think_seconds=0.2,
                                    stream=False, say=None)

    assert payload["errors"] == 0, payload["error_reasons"]
    assert payload["turns"] > 0
    assert payload["logged_turns"] == payload["turns"]
    assert payload["logged_channels"] == {"api": 3}
    assert payload["first_delta_ms"] is None and payload["turns_without_delta"] is None
    assert payload["latency_ms"]["p50_ms"] <= payload["latency_ms"]["p95_ms"]


def test_cli_fails_when_the_bot_is_not_published(data_dir: Path, store: Engine) -> None:
    """Errors are found, not hidden: with the bot taken offline every turn is a 404 with the
    server's German text, nothing is logged and the exit code is 1."""
    with store.session() as session:
        BotRepository(session, "standard").unpublish(bench_public_chat.BOT)
    get_engine(store.settings.resolved_database_url).dispose()

    done = subprocess.run(
        [sys.executable, "-m", "evaluation", "bench", "public-chat", "--users", "2",
         "--seconds", "2", "--think", "0.2", "--data-dir", str(data_dir), "--json", "--quiet"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300, check=False)

    assert done.returncode == 1, done.stderr
    payload = json.loads(done.stdout)
    assert payload["turns"] > 0 and payload["errors"] == payload["turns"]
    assert payload["successful_turns"] == 0 and payload["logged_turns"] == 0
    assert payload["error_statuses"] == {"404": payload["turns"]}
    [reason] = payload["error_reasons"]
    assert reason["reason"].startswith("HTTP 404: ")
    assert "keinen öffentlichen Assistenten" in reason["reason"]
    assert payload["warmup_ok"] is False
