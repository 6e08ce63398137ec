"""How many citizens the public chat serves at once: a load test over loopback.

`python -m evaluation bench public-chat --users 50 --seconds 60` starts the public chat as an
operator does (`python -m apps.public_chat`, one process) on the Musterstadt sample data — a
fresh folder built with `python -m pipelines sample` unless `--data-dir` names one — and lets
`users` simulated citizens talk to its JSON API at the same time for `seconds` seconds.

- Every citizen keeps one conversation: the first question goes without `conversation_id`,
  every later one with the id the server returned. Questions come from the Musterstadt test set
  (`data/sample/musterstadt_testset.jsonl`, seeded random: the same run asks the same
  questions); an item with a `history` is asked as the follow-up it is, its history first.
- Answers are streamed (NDJSON) unless `--no-stream`; measured per turn are the time to the
  first piece of answer text (`delta`) and the time until the closing `final` line. Between
  turns a citizen reads for `think_seconds`; the start of each citizen is spread over the first
  `think_seconds`, as real visitors do not arrive in the same millisecond.
- The answers come in extractive mode (`CHATWERKSTATT_LLM_PROVIDER=extractive`): the figures
  are the capacity of the chat itself — retrieval, logging, the web server — not of an LLM.
- The rate limits (questions per conversation and per bot and minute) are raised to
  1 000 000 for the run: they exist to stop abuse and would otherwise cut the load off; the
  payload says so under `server`.
- A turn counts as successful when the HTTP status is 200 and the (final) answer has a
  conversation id, a non-empty answer and a mode; everything else is an error with its status,
  the server's German error text or the exception type.
- After the run the server is stopped and the turns logged in the store are counted for
  exactly the conversations of this run (table `messages`), with their channels: every
  successful turn must be logged once, and nothing else.

A warm-up turn before the clock starts is reported on its own (`warmup_ms`, in its own
conversation that is not counted). Latencies are over successful turns. Client and server
share the machine's cores, so the figures are a lower bound of what a server of its own does.
Bench conversations stay in the store of a folder given with `--data-dir` (channel "api").
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from evaluation.bench_pages import machine
from evaluation.browser import ServerProcess, engine_env, run_cli
from evaluation.metrics import percentile, summary_ms
from evaluation.testset import TestItem, load_testset
from pipelines.settings import REPO_ROOT, Settings

SAMPLE_TESTSET = REPO_ROOT / "data" / "sample" / "musterstadt_testset.jsonl"
WORKSPACE = "standard"
BOT = "musterstadt-buergerservice"
# High enough that no limit is reached by any load this machine can produce.
RAISED_TURNS_PER_MINUTE = 1_000_000
SEED = 20241
REQUEST_TIMEOUT_S = 120.0
ERROR_EXAMPLES = 5


class PublicChatServer(ServerProcess):
    """The public chat as an operator starts it, on loopback, extractive, limits raised."""

    name = "Der öffentliche Chat"
    health_path = "/health"

    def command(self) -> list[str]:
        return [sys.executable, "-m", "apps.public_chat", "--host", "127.0.0.1",
                "--port", str(self.port)]


def server_settings() -> dict[str, str]:
    """The environment the bench sets for the server, besides the data folder."""
    return {
        "CHATWERKSTATT_LLM_PROVIDER": "extractive",
        "CHATWERKSTATT_PUBLIC_SESSION_TURNS_PER_MINUTE": str(RAISED_TURNS_PER_MINUTE),
        "CHATWERKSTATT_PUBLIC_BOT_TURNS_PER_MINUTE": str(RAISED_TURNS_PER_MINUTE),
        "GRADIO_ANALYTICS_ENABLED": "False",
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }


@dataclass(frozen=True)
class Turn:
    """One question and what came back."""

    user: int
    ok: bool
    seconds: float  # from sending the question to the end of the answer
    first_text_seconds: float | None  # to the first delta; None without one (or non-stream)
    status: int | None  # HTTP status, None when no response came
    error: str  # "" when ok
    conversation_id: str | None
    mode: str


def _error_text(status: int, body: bytes) -> str:
    """The server's German error text, or the raw body when it sent none."""
    text = body.decode("utf-8", errors="replace")
    try:
        text = str(json.loads(body)["error"]) or text
    except (ValueError, KeyError, TypeError):
        pass
    return f"HTTP {status}: {' '.join(text.split())[:200] or '(ohne Text)'}"


def _check_final(answer: Any) -> tuple[str, str | None, str]:
    """(error or "", conversation id, mode) of a final answer object."""
    if not isinstance(answer, dict):
        return "Antwort ist kein JSON-Objekt", None, ""
    conversation_id = answer.get("conversation_id")
    mode = answer.get("mode")
    if not isinstance(conversation_id, str) or not conversation_id:
        return "Antwort ohne conversation_id", None, ""
    if not isinstance(mode, str) or not mode:
        return "Antwort ohne mode", conversation_id, ""
    if not isinstance(answer.get("answer"), str) or not answer["answer"].strip():
        return "leere Antwort", conversation_id, mode
    return "", conversation_id, mode


async def ask(client: httpx.AsyncClient, url: str, user: int, question: str,
              conversation_id: str | None, stream: bool) -> Turn:
    """One turn against the chat API, timed; never raises for what the server does."""
    body = {"question": question, "conversation_id": conversation_id, "stream": stream,
            "language": None, "plain_language": False}
    started = time.perf_counter()
    first_text: float | None = None
    status: int | None = None
    try:
        if stream:
            final: Any = None
            async with client.stream("POST", url, json=body) as response:
                status = response.status_code
                if status != 200:
                    error = _error_text(status, await response.aread())
                    return Turn(user, False, time.perf_counter() - started, None, status, error,
                                None, "")
                async for line in response.aiter_lines():
                    if not line.strip():
                        continue
                    event = json.loads(line)
                    kind = event.get("type") if isinstance(event, dict) else None
                    if kind == "delta" and first_text is None and event.get("text"):
                        first_text = time.perf_counter() - started
                    elif kind == "final":
                        final = event
            if final is None:
                error, answered_in, mode = "Antwortstrom ohne final-Zeile", None, ""
            else:
                error, answered_in, mode = _check_final(final)
        else:
            response = await client.post(url, json=body)
            status = response.status_code
            if status != 200:
                return Turn(user, False, time.perf_counter() - started, None, status,
                            _error_text(status, response.content), None, "")
            error, answered_in, mode = _check_final(response.json())
    except (httpx.HTTPError, ValueError) as exc:
        # ValueError: a line or body that is not JSON.
        return Turn(user, False, time.perf_counter() - started, first_text, status,
                    f"{type(exc).__name__}: {str(exc)[:200]}", None, "")
    return Turn(user, not error, time.perf_counter() - started, first_text, status, error,
                answered_in, mode)


async def citizen(client: httpx.AsyncClient, url: str, user: int, items: Sequence[TestItem],
                  deadline: float, think_seconds: float, stream: bool,
                  turns: list[Turn]) -> None:
    """One visitor: one conversation, questions until the deadline, reading in between."""
    rng = random.Random(SEED * 100_003 + user)
    await asyncio.sleep(rng.uniform(0, think_seconds))
    conversation_id: str | None = None
    while time.monotonic() < deadline:
        item = rng.choice(items)
        for question in (*item.history, item.question):
            if time.monotonic() >= deadline:
                return
            turn = await ask(client, url, user, question, conversation_id, stream)
            turns.append(turn)
            conversation_id = turn.conversation_id or conversation_id
            await asyncio.sleep(max(0.0, min(think_seconds, deadline - time.monotonic())))


async def drive(base_url: str, users: int, seconds: float, think_seconds: float, stream: bool,
                items: Sequence[TestItem]) -> tuple[list[Turn], Turn, float]:
    """(turns of the run, the warm-up turn, the run's duration in seconds)."""
    url = f"{base_url}/api/w/{WORKSPACE}/{BOT}/chat"
    limits = httpx.Limits(max_connections=users + 1, max_keepalive_connections=users + 1)
    async with httpx.AsyncClient(timeout=REQUEST_TIMEOUT_S, limits=limits,
                                 trust_env=False) as client:
        warmup = await ask(client, url, -1, items[0].question, None, stream)
        turns: list[Turn] = []
        started = time.monotonic()
        deadline = started + seconds
        await asyncio.gather(*(citizen(client, url, user, items, deadline, think_seconds,
                                       stream, turns) for user in range(users)))
        return turns, warmup, time.monotonic() - started


def logged_turns(data_dir: Path, conversation_ids: set[str]) -> dict[str, Any]:
    """What the store holds for exactly these conversations: turns, conversations by channel."""
    from pipelines.engine import Engine
    from pipelines.store.db import get_engine
    from pipelines.store.models import Conversation, Message

    settings = Settings(_env_file=None, data_dir=data_dir)  # type: ignore[call-arg]
    engine = Engine(settings)
    messages = 0
    channels: Counter[str] = Counter()
    ids = sorted(conversation_ids)
    with engine.session() as session:
        for start in range(0, len(ids), 500):  # SQLite allows only so many bound values
            chunk = ids[start:start + 500]
            messages += session.scalar(select(func.count(Message.id))
                                       .where(Message.conversation_id.in_(chunk))) or 0
            channels.update(session.scalars(select(Conversation.channel)
                                            .where(Conversation.id.in_(chunk))).all())
    get_engine(settings.resolved_database_url).dispose()
    return {"turns": messages, "conversations": sum(channels.values()),
            "channels": dict(channels)}


def latency(values: Sequence[float]) -> dict[str, float]:
    """p50/p95/mean as elsewhere, plus p99 and max: the tail is what a citizen waits for."""
    return {**summary_ms(values), "p99_ms": round(percentile(values, 99), 2),
            "max_ms": round(max(values), 2) if values else 0.0}


def run(users: int = 50, seconds: float = 60.0, data_dir: Path | None = None,
        think_seconds: float = 1.0, stream: bool = True,
        say: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Drive the load and count what was logged; times in milliseconds unless named _s.
    Raises ServerStartError when the chat does not start, RuntimeError when the sample data
    cannot be built."""
    if users < 1 or seconds <= 0 or think_seconds < 0:
        raise ValueError("Mindestens 1 Nutzer, mehr als 0 Sekunden, keine negative Pause.")
    report = say or (lambda _m: None)
    items = load_testset(SAMPLE_TESTSET)
    with tempfile.TemporaryDirectory(prefix="bench-public-chat-") as folder:
        root = Path(folder)
        # An empty working folder: no `.env` of a developer changes the server's settings.
        cwd = root / "cwd"
        cwd.mkdir()
        data = data_dir or root / "data"
        env = engine_env(data, server_settings())
        sample_s = None
        if data_dir is None:
            report("Beispieldaten einlesen (python -m pipelines sample) …")
            started = time.perf_counter()
            done = run_cli(["sample"], env, cwd=cwd)
            (root / "sample.log").write_text(done.stdout + done.stderr, encoding="utf-8")
            sample_s = round(time.perf_counter() - started, 1)
        report("Öffentlichen Chat starten (python -m apps.public_chat) …")
        started = time.perf_counter()
        with PublicChatServer(root / "server.log", env, cwd=cwd) as server:
            server_start_s = round(time.perf_counter() - started, 1)
            report(f"{users} Nutzer fragen {seconds:g} s lang "
                   f"({'gestreamt' if stream else 'ohne Streaming'}, {think_seconds:g} s "
                   "Lesepause) …")
            turns, warmup, duration = asyncio.run(
                drive(server.url, users, seconds, think_seconds, stream, items))
        logged = logged_turns(data, {t.conversation_id for t in turns if t.conversation_id})

    ok = [t for t in turns if t.ok]
    errors = [t for t in turns if not t.ok]
    reasons = Counter(t.error for t in errors)
    first_text = [t.first_text_seconds * 1000 for t in ok if t.first_text_seconds is not None]
    payload: dict[str, Any] = {
        "users": users,
        "seconds": seconds,
        "think_seconds": think_seconds,
        "stream": stream,
        "duration_s": round(duration, 2),
        "turns": len(turns),
        "successful_turns": len(ok),
        "errors": len(errors),
        "error_reasons": [{"reason": reason, "count": count}
                          for reason, count in reasons.most_common(ERROR_EXAMPLES)],
        "error_statuses": dict(Counter(str(t.status) for t in errors)),
        "turns_per_second": round(len(ok) / duration, 2) if duration else 0.0,
        "latency_ms": latency([t.seconds * 1000 for t in ok]),
        "first_delta_ms": latency(first_text) if first_text else None,
        "turns_without_delta": sum(1 for t in ok if t.first_text_seconds is None)
        if stream else None,
        "conversations": len({t.conversation_id for t in ok}),
        "logged_turns": logged["turns"],
        "logged_conversations": logged["conversations"],
        "logged_channels": logged["channels"],
        "logged_matches_successful": logged["turns"] == len(ok),
        "modes": dict(Counter(t.mode for t in ok).most_common()),
        "warmup_ms": round(warmup.seconds * 1000, 1),
        "warmup_ok": warmup.ok,
        "cores": os.cpu_count(),
        "machine": machine(),
        "server": {
            "command": "python -m apps.public_chat --host 127.0.0.1 --port PORT",
            "settings": {k: v for k, v in server_settings().items()
                         if k.startswith("CHATWERKSTATT_")},
            "rate_limits": (
                f"für die Messung auf {_german_number(RAISED_TURNS_PER_MINUTE)} Fragen je "
                "Minute angehoben (je Gespräch und je Bot); im Betrieb gelten "
                f"{_german_number(_default('public_session_turns_per_minute'))} je Gespräch "
                f"und {_german_number(_default('public_bot_turns_per_minute'))} je Bot und "
                "Minute"
            ),
            "data_dir": str(data_dir) if data_dir else "frischer Ordner mit den Beispieldaten",
            "sample_s": sample_s,
            "start_s": server_start_s,
        },
    }
    return payload


def _default(field: str) -> int:
    return int(Settings.model_fields[field].default)


def _german_number(value: int) -> str:
    return f"{value:,}".replace(",", ".")


def passed(payload: dict[str, Any]) -> bool:
    """The run counts when no turn failed, some turns were made and every one was logged."""
    return (payload["errors"] == 0 and payload["successful_turns"] > 0
            and payload["logged_matches_successful"])


def summary(payload: dict[str, Any]) -> dict[str, Any]:
    """Readable lines for the text output."""
    total = payload["latency_ms"]
    lines: dict[str, Any] = {
        "Last": (f"{payload['users']} Nutzer, {payload['seconds']:g} s, "
                 f"{payload['think_seconds']:g} s Lesepause, "
                 f"{'gestreamt' if payload['stream'] else 'ohne Streaming'}"),
        "Fragen": (f"{payload['turns']} ({payload['successful_turns']} beantwortet, "
                   f"{payload['errors']} Fehler), {payload['turns_per_second']:g} je Sekunde"),
        "Antwortzeit": (f"p50 {total['p50_ms']:.0f} ms · p95 {total['p95_ms']:.0f} ms · "
                        f"p99 {total['p99_ms']:.0f} ms · max {total['max_ms']:.0f} ms"),
    }
    first = payload.get("first_delta_ms")
    if first:
        lines["Erster Text"] = (f"p50 {first['p50_ms']:.0f} ms · p95 {first['p95_ms']:.0f} ms "
                                f"· p99 {first['p99_ms']:.0f} ms · max {first['max_ms']:.0f} ms"
                                f" ({payload['turns_without_delta']} Antworten ohne Teilstück)")
    lines["Protokolliert"] = (
        f"{payload['logged_turns']} Fragen in {payload['logged_conversations']} Gesprächen "
        f"({', '.join(f'{k}: {v}' for k, v in payload['logged_channels'].items()) or '–'}) – "
        + ("stimmt mit den beantworteten überein" if payload["logged_matches_successful"]
           else f"erwartet {payload['successful_turns']}"))
    lines["Modi"] = ", ".join(f"{k}: {v}" for k, v in payload["modes"].items()) or "–"
    if payload["error_reasons"]:
        lines["Fehlergründe"] = "; ".join(f"{r['count']}× {r['reason']}"
                                          for r in payload["error_reasons"])
    lines["Aufwärmen"] = f"{payload['warmup_ms']:.0f} ms" + ("" if payload["warmup_ok"]
                                                               else " (fehlgeschlagen)")
    lines["Ratenbegrenzung"] = payload["server"]["rate_limits"]
    lines["Maschine"] = payload["machine"]
    lines["Ergebnis"] = "bestanden" if passed(payload) else "nicht bestanden"
    return lines
