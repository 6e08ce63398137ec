"""Feedback on real logged answers: a real extractive turn (LanceDB + local embedder, no LLM)
writes the message, feedback refers to it — refused in German when it does not fit."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from pipelines.assistant import Assistant, ensure_bot
from pipelines.documents.ingest import Ingestor
from pipelines.engine import Engine
from pipelines.feedback import MAX_COMMENT_CHARS, feedback_for_message, record_feedback
from pipelines.store.models import Feedback, Message, User
from tests.support.corpus import bot_on_corpus, ingest_corpus

BOT = "feedback-bot"
DOCS = {
    "reisepass.md": (
        "# Reisepass beantragen\n\n"
        "## Gebühren\n\n"
        "Ein Reisepass kostet 70,00 Euro. "
        "Für Antragstellende unter 24 Jahren kostet der Reisepass 37,50 Euro.\n"
    ),
    "sperrmuell.txt": (
        "Sperrmüll anmelden\n\n"
        "Sperrmüll melden Sie online über das Abfallportal an. Die Abholung ist zweimal im Jahr "
        "kostenlos.\n"
    ),
}
WORKSPACE = "standard"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ingest_corpus(tmp_path_factory.mktemp("corpus"), DOCS, BOT)


@pytest.fixture
def answer_id(engine: Engine, corpus: Path) -> int:
    """The id of a real, logged extractive answer in the default workspace."""
    result = bot_on_corpus(engine, corpus, BOT).ask("Was kostet ein Reisepass?")
    assert result.mode == "extractive" and "70,00 Euro" in result.answer
    assert result.message_id is not None
    return result.message_id


def make_user(engine: Engine, username: str) -> int:
    with engine.session() as session:
        user = User(username=username, display_name=username.title())
        session.add(user)
        session.flush()
        return int(user.id)


def feedback_rows(engine: Engine) -> int:
    with engine.session() as session:
        return int(session.scalar(select(func.count()).select_from(Feedback)) or 0)


def test_feedback_is_stored_for_a_real_answer(engine: Engine, answer_id: int) -> None:
    feedback_id = record_feedback(engine, WORKSPACE, answer_id, 1,
                                  comment="  Genau die Gebühr, die ich brauchte.\n ")

    [stored] = feedback_for_message(engine, answer_id)
    assert stored.id == feedback_id
    assert (stored.message_id, stored.rating, stored.user_id) == (answer_id, 1, None)
    assert stored.comment == "Genau die Gebühr, die ich brauchte."
    assert stored.created_at.tzinfo is not None
    assert feedback_for_message(engine, answer_id, workspace=WORKSPACE) == [stored]


def test_negative_rating_without_comment(engine: Engine, answer_id: int) -> None:
    record_feedback(engine, WORKSPACE, answer_id, -1)

    [stored] = feedback_for_message(engine, answer_id)
    assert (stored.rating, stored.comment) == (-1, "")


def test_second_call_of_the_same_user_updates(engine: Engine, answer_id: int) -> None:
    anna = make_user(engine, "anna")
    first = record_feedback(engine, WORKSPACE, answer_id, 1, "passt", user_id=anna)
    created = feedback_for_message(engine, answer_id)[0].created_at

    second = record_feedback(engine, WORKSPACE, answer_id, -1, "Betrag fehlt doch", user_id=anna)

    assert second == first
    [stored] = feedback_for_message(engine, answer_id)
    assert (stored.rating, stored.comment, stored.user_id) == (-1, "Betrag fehlt doch", anna)
    assert stored.created_at >= created
    assert feedback_rows(engine) == 1


def test_anonymous_second_call_updates_too(engine: Engine, answer_id: int) -> None:
    first = record_feedback(engine, WORKSPACE, answer_id, -1, "zu knapp")
    assert record_feedback(engine, WORKSPACE, answer_id, 1) == first

    [stored] = feedback_for_message(engine, answer_id)
    assert (stored.rating, stored.comment) == (1, "")


def test_each_user_has_an_own_rating(engine: Engine, answer_id: int) -> None:
    anna, ben = make_user(engine, "anna"), make_user(engine, "ben")

    ids = {
        record_feedback(engine, WORKSPACE, answer_id, 1, user_id=anna),
        record_feedback(engine, WORKSPACE, answer_id, -1, user_id=ben),
        record_feedback(engine, WORKSPACE, answer_id, -1),
    }

    assert len(ids) == 3
    stored = feedback_for_message(engine, answer_id)
    assert [(f.user_id, f.rating) for f in stored] == [(anna, 1), (ben, -1), (None, -1)]


@pytest.mark.parametrize("rating", [0, 2, -2, 5, True, 1.0, "1", None])
def test_wrong_rating_is_refused_in_german(engine: Engine, answer_id: int,
                                           rating: object) -> None:
    with pytest.raises(ValueError) as caught:
        record_feedback(engine, WORKSPACE, answer_id, rating)  # type: ignore[arg-type]

    assert str(caught.value).startswith(
        "Die Bewertung muss +1 (hilfreich) oder -1 (nicht hilfreich) sein, nicht ")
    assert feedback_rows(engine) == 0


def test_missing_message_is_refused_in_german(engine: Engine, answer_id: int) -> None:
    missing = answer_id + 1000

    with pytest.raises(ValueError) as caught:
        record_feedback(engine, WORKSPACE, missing, 1)

    assert str(caught.value) == (
        f"Eine Antwort mit der Nummer {missing} gibt es im Arbeitsbereich „standard“ nicht; "
        "Feedback ist nur zu gespeicherten Antworten möglich.")
    assert feedback_rows(engine) == 0
    assert feedback_for_message(engine, missing) == []


def test_answer_of_another_workspace_is_refused(engine: Engine, answer_id: int,
                                                tmp_path: Path) -> None:
    # A second municipality with its own bot, documents and a real logged answer.
    folder = tmp_path / "sueder-unterlagen"
    folder.mkdir()
    (folder / "hundesteuer.txt").write_text(
        "Hundesteuer\n\nDie Hundesteuer beträgt 60 Euro im Jahr für den ersten Hund.\n",
        encoding="utf-8")
    ensure_bot(engine, "sueder-bot", workspace="sueder")
    Ingestor(engine, "sueder", "sueder-bot").ingest([folder])
    other = Assistant(engine, "sueder-bot", workspace="sueder").ask(
        "Wie hoch ist die Hundesteuer für den ersten Hund?")
    assert other.mode == "extractive" and "60 Euro" in other.answer
    assert other.message_id is not None

    with pytest.raises(ValueError) as from_standard:
        record_feedback(engine, WORKSPACE, other.message_id, 1)
    with pytest.raises(ValueError) as from_sueder:
        record_feedback(engine, "sueder", answer_id, -1)
    with pytest.raises(ValueError) as unknown_workspace:
        record_feedback(engine, "gibt-es-nicht", answer_id, 1)

    assert "gibt es im Arbeitsbereich „standard“ nicht" in str(from_standard.value)
    assert "gibt es im Arbeitsbereich „sueder“ nicht" in str(from_sueder.value)
    assert "gibt es im Arbeitsbereich „gibt-es-nicht“ nicht" in str(unknown_workspace.value)
    assert feedback_rows(engine) == 0
    # Inside its own workspace the same answer takes feedback, and only there it is listed.
    record_feedback(engine, "sueder", other.message_id, 1)
    assert len(feedback_for_message(engine, other.message_id, workspace="sueder")) == 1
    assert feedback_for_message(engine, other.message_id, workspace=WORKSPACE) == []


def test_unknown_user_is_refused(engine: Engine, answer_id: int) -> None:
    with pytest.raises(ValueError) as caught:
        record_feedback(engine, WORKSPACE, answer_id, 1, user_id=4711)

    assert str(caught.value) == "Einen Benutzer mit der Nummer 4711 gibt es nicht."
    assert feedback_rows(engine) == 0


def test_comment_length_limit(engine: Engine, answer_id: int) -> None:
    too_long = "a" * (MAX_COMMENT_CHARS + 1)
    with pytest.raises(ValueError) as caught:
        record_feedback(engine, WORKSPACE, answer_id, -1, comment=too_long)
    assert str(caught.value) == (
        "Der Kommentar ist mit 2001 Zeichen zu lang; erlaubt sind höchstens 2000 Zeichen.")
    assert feedback_rows(engine) == 0

    # The limit counts the trimmed text: spaces around a full-length comment do not matter.
    longest = "b" * MAX_COMMENT_CHARS
    record_feedback(engine, WORKSPACE, answer_id, -1, comment=f"   {longest}\n\n")
    assert feedback_for_message(engine, answer_id)[0].comment == longest


def test_feedback_goes_when_its_answer_goes(engine: Engine, answer_id: int) -> None:
    record_feedback(engine, WORKSPACE, answer_id, 1)
    with engine.session() as session:
        message = session.get(Message, answer_id)
        assert message is not None
        session.delete(message)

    assert feedback_rows(engine) == 0
