"""The public chat server over real HTTP: JSON and NDJSON turns, the gate in front of
unpublished bots, limits, feedback, handoff with the clerk's reply, source pages, headers.

The server (apps.public_chat.create_app: FastAPI with the Gradio page mounted) runs in uvicorn
on a loopback port; the tests look into the same SQLite store it writes to.
"""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from pipelines import handoff
from pipelines.bots import BotConfig, BotRepository
from pipelines.engine import Engine
from pipelines.settings import Settings
from pipelines.store.models import Conversation, Feedback, Message
from tests.conftest import closed_port_url
from tests.support.corpus import ingest_corpus
from tests.support.public_app import serve_public_chat

DOCS = {
    "reisepass.md": (
        "# Reisepass\n\n## Gebühren\n\nEin Reisepass kostet 70,00 Euro. Für Antragstellende "
        "unter 24 Jahren kostet der Reisepass 37,50 Euro.\n"
    ),
    "sperrmuell.md": (
        "# Sperrmüll\n\nSperrmüll melden Sie online über das Abfallportal an. Die Abholung ist "
        "zweimal im Jahr kostenlos.\n"
    ),
    # Content a document could carry to attack the page that shows it.
    "schwimmbad.csv": (
        "Thema;Auskunft\n"
        "Öffnungszeiten Schwimmbad;<img src=x onerror=\"window.__xss=5\"> täglich 8 bis 20 "
        "Uhr [mehr](javascript:window.__xss=6) <script>window.__xss=7</script>\n"
    ),
}
BOT = "public-bot"
HIDDEN = "geheim-bot"
WORKSPACE = "standard"
ORIGIN = "https://www.musterstadt.de"


def settings_for(data_dir: Path, **overrides: Any) -> Settings:
    return Settings(_env_file=None, data_dir=data_dir, ollama_host=closed_port_url(),  # type: ignore[call-arg]
                    llm_probe_timeout=0.5, **overrides)


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("public")
    data_dir = ingest_corpus(root, DOCS, BOT)
    engine = Engine(settings_for(data_dir))
    with engine.session() as session:
        repo = BotRepository(session, WORKSPACE)
        config = repo.get(BOT)[0].model_dump()
        config["public"] = {"allowed_origins": [ORIGIN], "suggested_questions": ["Reisepass?"]}
        config["retrieval"] = {**config["retrieval"], "confidence_threshold": 0.1}
        repo.publish(BOT, repo.save(BotConfig.model_validate(config)))
        repo.save(BotConfig(slug=HIDDEN, name="Geheim", knowledge_bases=[BOT]))
    return data_dir


@pytest.fixture(scope="module")
def engine(data: Path) -> Engine:
    return Engine(settings_for(data))


@pytest.fixture(scope="module")
def base(engine: Engine) -> Iterator[str]:
    with serve_public_chat(engine) as url:
        yield url


def chat(base: str, question: str, conversation: str | None = None, bot: str = BOT,
         **extra: Any) -> httpx.Response:
    return httpx.post(f"{base}/api/w/{WORKSPACE}/{bot}/chat",
                      json={"question": question, "conversation_id": conversation, **extra},
                      timeout=60)


def logged(engine: Engine, conversation: str) -> list[Message]:
    with engine.session() as session:
        return list(session.scalars(select(Message).where(
            Message.conversation_id == conversation).order_by(Message.id)))


def test_a_turn_answers_with_source_links_and_is_logged_as_api(base: str,
                                                                engine: Engine) -> None:
    response = chat(base, "Was kostet ein Reisepass?")

    assert response.status_code == 200
    turn = response.json()
    assert "70,00 Euro" in turn["answer"]
    assert turn["mode"] == "extractive"
    assert turn["sources"] and turn["sources"][0]["title"].lower().startswith("reisepass")
    link = turn["sources"][0]["link"]
    assert link == f"/w/{WORKSPACE}/{BOT}/quelle/{turn['message_id']}/1"
    [row] = logged(engine, turn["conversation_id"])
    assert row.id == turn["message_id"]
    with engine.session() as session:
        assert session.get(Conversation, turn["conversation_id"]).channel == "api"
    source = httpx.get(base + link)
    assert source.status_code == 200 and "70,00 Euro" in source.text
    assert '<html lang="de">' in source.text


def test_streamed_turn_sends_deltas_then_the_final_result(base: str) -> None:
    with httpx.stream("POST", f"{base}/api/w/{WORKSPACE}/{BOT}/chat", timeout=60,
                      json={"question": "Wie melde ich Sperrmüll an?", "stream": True}) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("application/x-ndjson")
        events = [json.loads(line) for line in r.iter_lines() if line]

    assert [e["type"] for e in events][-1] == "final"
    deltas = "".join(e["text"] for e in events if e["type"] == "delta")
    final = events[-1]
    assert deltas.strip() == final["answer"] and "Abfallportal" in final["answer"]


def test_follow_up_in_the_same_conversation_is_one_conversation(base: str,
                                                                 engine: Engine) -> None:
    first = chat(base, "Was kostet ein Reisepass?").json()
    second = chat(base, "Und unter 24 Jahren?", first["conversation_id"]).json()

    assert second["conversation_id"] == first["conversation_id"]
    assert len(logged(engine, first["conversation_id"])) == 2


@pytest.mark.parametrize("path", [
    f"/api/w/{WORKSPACE}/{HIDDEN}/chat", f"/api/w/{WORKSPACE}/gibt-es-nicht/chat",
    f"/api/w/anderswo/{BOT}/chat",
])
def test_unpublished_or_unknown_bots_answer_404_in_german(base: str, path: str) -> None:
    response = httpx.post(base + path, json={"question": "Was kostet ein Reisepass?"})

    assert response.status_code == 404
    assert "keinen öffentlichen Assistenten" in response.json()["error"]


def test_pages_of_unpublished_bots_and_their_gradio_api_are_unreachable(base: str) -> None:
    page = httpx.get(f"{base}/w/{WORKSPACE}/{HIDDEN}/")
    info = httpx.get(f"{base}/w/{WORKSPACE}/{HIDDEN}/gradio_api/info")
    published = httpx.get(f"{base}/w/{WORKSPACE}/{BOT}/gradio_api/info")

    assert page.status_code == 404 and "keinen öffentlichen Assistenten" in page.text
    assert '<html lang="de">' in page.text
    assert info.status_code == 404
    assert published.status_code == 200


def test_published_page_is_german_with_the_bots_frame_ancestors(base: str) -> None:
    response = httpx.get(f"{base}/w/{WORKSPACE}/{BOT}/")

    assert response.status_code == 200
    assert 'lang="de"' in response.text[:200]
    assert "--cw-colour: #005a9c" in response.text
    assert response.headers["content-security-policy"] == f"frame-ancestors 'self' {ORIGIN}"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    # Pages of the server itself may only be framed by itself.
    demo = httpx.get(f"{base}/demo/musterstadt")
    assert demo.headers["content-security-policy"] == "frame-ancestors 'self'"


def test_uploads_into_gradio_are_refused(base: str) -> None:
    response = httpx.post(f"{base}/w/{WORKSPACE}/{BOT}/gradio_api/upload",
                          files={"files": ("x.html", b"<script>1</script>", "text/html")})

    assert response.status_code == 403


@pytest.mark.parametrize(("body", "status", "words"), [
    (b"kein json", 422, "kein gültiges JSON"),
    (b"[1, 2]", 422, "JSON-Objekt"),
    (json.dumps({"question": 42}).encode(), 422, "„question“ muss ein Text sein"),
    (json.dumps({"question": "   "}).encode(), 422, "Bitte geben Sie eine Frage ein"),
    (json.dumps({"question": "x" * 1001}).encode(), 413, "1001 Zeichen zu lang"),
    (json.dumps({"question": "Hallo", "conversation_id": "../../etc"}).encode(), 422, "UUID"),
])
def test_bad_requests_get_a_german_reason(base: str, body: bytes, status: int,
                                          words: str) -> None:
    response = httpx.post(f"{base}/api/w/{WORKSPACE}/{BOT}/chat", content=body)

    assert response.status_code == status
    assert words in response.json()["error"]


def test_hostile_document_content_is_shown_escaped_on_the_source_page(base: str) -> None:
    turn = chat(base, "Öffnungszeiten Schwimmbad").json()
    [source] = [s for s in turn["sources"] if s["title"].lower().startswith("schwimmbad")]

    page = httpx.get(base + source["link"]).text

    assert "&lt;img src=x onerror=" in page
    assert "<img src=x" not in page and "<script>window" not in page


def test_feedback_only_for_answers_of_the_own_conversation(base: str, engine: Engine) -> None:
    mine = chat(base, "Was kostet ein Reisepass?").json()
    other = chat(base, "Wie melde ich Sperrmüll an?").json()
    url = f"{base}/api/w/{WORKSPACE}/{BOT}/feedback"

    ok = httpx.post(url, json={"conversation_id": mine["conversation_id"],
                               "message_id": mine["message_id"], "rating": -1,
                               "comment": "Zu knapp"})
    foreign = httpx.post(url, json={"conversation_id": mine["conversation_id"],
                                    "message_id": other["message_id"], "rating": 1})
    bad = httpx.post(url, json={"conversation_id": mine["conversation_id"],
                                "message_id": mine["message_id"], "rating": 5})

    assert ok.status_code == 200
    assert foreign.status_code == 404 and "nicht zu Ihrem Gespräch" in foreign.json()["error"]
    assert bad.status_code == 422 and "+1 (hilfreich) oder -1" in bad.json()["error"]
    with engine.session() as session:
        rows = session.scalars(select(Feedback).where(
            Feedback.message_id.in_([mine["message_id"], other["message_id"]]))).all()
        assert [(r.message_id, r.rating, r.comment) for r in rows] == \
            [(mine["message_id"], -1, "Zu knapp")]


def test_handoff_creates_a_ticket_and_the_clerks_reply_comes_back(base: str,
                                                                   engine: Engine) -> None:
    turn = chat(base, "Ich möchte mit einem Menschen sprechen").json()
    assert turn["handoff"] and turn["mode"] == "mensch"
    conversation = turn["conversation_id"]
    replies = f"{base}/api/w/{WORKSPACE}/{BOT}/replies"
    assert httpx.get(replies, params={"conversation_id": conversation}).json() == \
        {"replies": []}

    created = httpx.post(f"{base}/api/w/{WORKSPACE}/{BOT}/handoff",
                         json={"conversation_id": conversation})
    assert created.status_code == 200
    ticket = created.json()["ticket"]
    assert "übergeben" in created.json()["message"]
    handoff.reply(engine, WORKSPACE, ticket, "Wir rufen Sie morgen an.", "sachbearbeitung")

    [reply] = httpx.get(replies, params={"conversation_id": conversation}).json()["replies"]
    assert reply["ticket"] == ticket and reply["text"] == "Wir rufen Sie morgen an."


def test_handoff_of_an_unknown_conversation_is_refused(base: str) -> None:
    response = httpx.post(f"{base}/api/w/{WORKSPACE}/{BOT}/handoff",
                          json={"conversation_id": str(uuid.uuid4())})

    assert response.status_code == 422
    assert "gibt es im Arbeitsbereich „standard“ nicht" in response.json()["error"]


def test_limits_per_conversation_and_per_bot(data: Path, tmp_path: Path) -> None:
    copy = tmp_path / "data"
    shutil.copytree(data, copy)
    engine = Engine(settings_for(copy, public_session_turns_per_minute=2,
                                 public_bot_turns_per_minute=3))
    before = count_messages(engine)
    with serve_public_chat(engine) as base:
        first = chat(base, "Was kostet ein Reisepass?").json()["conversation_id"]
        assert chat(base, "Und für Kinder?", first).status_code == 200
        refused = chat(base, "Und noch etwas?", first)
        other = chat(base, "Wie melde ich Sperrmüll an?")
        busy = chat(base, "Was kostet ein Reisepass?")

    assert refused.status_code == 429 and "Bitte warten Sie" in refused.json()["error"]
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert other.status_code == 200
    assert busy.status_code == 429 and "sehr gefragt" in busy.json()["error"]
    assert count_messages(engine) == before + 3  # refused questions are not logged


def count_messages(engine: Engine) -> int:
    with engine.session() as session:
        return int(session.scalar(select(func.count()).select_from(Message)) or 0)


def test_a_conversation_of_another_bot_cannot_be_continued(base: str, engine: Engine) -> None:
    with engine.session() as session:
        repo = BotRepository(session, WORKSPACE)
        repo.save(BotConfig(slug="zweiter-bot", name="Zweiter", knowledge_bases=[BOT]))
        repo.publish("zweiter-bot")
    first = chat(base, "Was kostet ein Reisepass?").json()

    response = chat(base, "Und für Kinder?", first["conversation_id"], bot="zweiter-bot")

    assert response.status_code == 422
    assert "anderen Assistenten" in response.json()["error"]
    assert len(logged(engine, first["conversation_id"])) == 1
