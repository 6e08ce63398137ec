"""Retention of chat logs: per workspace, delete or anonymise, idempotent, the analytics copy
follows, the command line and bad input."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial

import pytest
from sqlalchemy import func, select

from pipelines.analytics import ChatLogMirror, LogFilter, figures, turns
from pipelines.engine import Engine
from pipelines.feedback import record_feedback
from pipelines.retention import apply_retention, policy_for, set_policy
from pipelines.store.models import Conversation, Feedback, Message
from tests.support.chatlog import conversation, turn
from tests.support.cli import Run, run_pipelines

NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)


@pytest.fixture
def run(engine: Engine) -> Callable[..., Run]:
    """`python -m pipelines ...` in a subprocess on the engine's data folder."""
    return partial(run_pipelines, engine.settings.data_dir)


def days_ago(days: int) -> datetime:
    return NOW - timedelta(days=days)


@pytest.fixture
def two_towns(engine: Engine) -> dict[str, int]:
    """Old and new turns in "standard" and in "jena"; feedback with a comment on the old ones."""
    ids = {}
    old = conversation(engine, "standard", "bot-a", "public", "old")
    ids["old"] = turn(engine, old, days_ago(200), "Meine Frage von früher", "extractive", 80)
    ids["old2"] = turn(engine, old, days_ago(199), "Noch eine alte Frage", "llm", 90)
    mixed = conversation(engine, "standard", "bot-a", "public", "mixed")
    ids["mixed_old"] = turn(engine, mixed, days_ago(31), "Vor einem Monat gefragt", "llm", 70)
    ids["mixed_new"] = turn(engine, mixed, days_ago(1), "Gestern gefragt", "llm", 60)
    jena = conversation(engine, "jena", "bot-j", "public", "jena")
    ids["jena_old"] = turn(engine, jena, days_ago(200), "Alte Frage in Jena", "llm", 50)
    record_feedback(engine, "standard", ids["old"], -1, "Das hat mir nicht geholfen")
    return ids


def count(engine: Engine, model: type) -> int:
    with engine.session() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_default_policy_anonymises_after_180_days(engine: Engine,
                                                  two_towns: dict[str, int]) -> None:
    assert (policy_for(engine, "standard").days, policy_for(engine, "standard").mode) == \
        (180, "anonymise")
    results = {r.workspace: r for r in apply_retention(engine, now=NOW)}
    assert (results["standard"].messages, results["jena"].messages) == (2, 1)
    with engine.session() as session:
        old = session.get(Message, two_towns["old"])
        assert old is not None
        assert (old.question, old.answer, old.search_query, old.citations) == ("", "", None, [])
        assert old.mode == "extractive" and old.timings_ms["gesamt"] == 80  # numbers stay
        recent = session.get(Message, two_towns["mixed_old"])
        assert recent is not None and recent.question == "Vor einem Monat gefragt"
        comment = session.scalar(select(Feedback.comment).where(
            Feedback.message_id == two_towns["old"]))
        rating = session.scalar(select(Feedback.rating).where(
            Feedback.message_id == two_towns["old"]))
    assert (comment, rating) == ("", -1)
    assert count(engine, Message) == 5
    # Idempotent: nothing left to anonymise.
    assert sum(r.messages for r in apply_retention(engine, now=NOW)) == 0


def test_own_policy_of_a_workspace_deletes_and_leaves_the_other_alone(
        engine: Engine, two_towns: dict[str, int]) -> None:
    policy = set_policy(engine, "standard", 30, "delete")
    assert (policy.days, policy.mode, policy.own) == (30, "delete", True)
    [standard] = apply_retention(engine, "standard", now=NOW)
    assert (standard.messages, standard.conversations) == (3, 1)  # "old" emptied and removed
    with engine.session() as session:
        assert session.get(Conversation, "old") is None
        assert session.get(Conversation, "mixed") is not None
        assert session.get(Message, two_towns["mixed_new"]) is not None
        assert session.get(Message, two_towns["jena_old"]) is not None  # other workspace
    assert count(engine, Feedback) == 0
    assert set_policy(engine, "standard", None).own is False


def test_the_analytics_copy_forgets_what_retention_removed(engine: Engine,
                                                           two_towns: dict[str, int]) -> None:
    mirror = ChatLogMirror(engine)
    mirror.sync()
    assert figures(mirror, LogFilter(workspaces=("standard",))).kpis["messages"] == 4
    apply_retention(engine, now=NOW)  # anonymise: same count, no texts
    mirror.sync()
    shown = turns(mirror, LogFilter(workspaces=("standard",)), limit=None)
    assert len(shown) == 4
    assert "Meine Frage von früher" not in set(shown["question"])
    assert "Das hat mir nicht geholfen" not in set(shown["feedback_comment"].dropna())
    set_policy(engine, "standard", 30, "delete")
    apply_retention(engine, now=NOW)
    mirror.sync()
    assert figures(mirror, LogFilter(workspaces=("standard",))).kpis["messages"] == 1


def test_dry_run_changes_nothing(engine: Engine, two_towns: dict[str, int]) -> None:
    set_policy(engine, "standard", 10, "delete")
    [result] = apply_retention(engine, "standard", now=NOW, dry_run=True)
    assert result.messages == 3 and "würde löschen" in result.describe()
    assert count(engine, Message) == 5


@pytest.mark.parametrize("days, mode, message", [
    (0, None, "ganze Zahl von Tagen ab 1"),
    (-5, None, "ganze Zahl von Tagen ab 1"),
    (30, "vernichten", "Unbekannte Art „vernichten“"),
])
def test_bad_policies_are_refused(engine: Engine, days: int, mode: str | None,
                                  message: str) -> None:
    with pytest.raises(ValueError, match=message):
        set_policy(engine, "standard", days, mode)
    assert policy_for(engine, "standard").own is False


def test_cli_sets_and_applies_the_retention(engine: Engine, two_towns: dict[str, int],
                                            run: Callable[..., Run]) -> None:
    done = run("--workspace", "standard", "retention", "--days", "30", "--mode", "delete",
               "--json")
    assert done.returncode == 0, done.stderr
    [result] = json.loads(done.stdout)
    assert (result["workspace"], result["days"], result["mode"]) == ("standard", 30, "delete")
    # created_at of the fixture is relative to NOW (23 Nov 2026); the command uses today, so
    # at least the 200-day-old turns are gone whatever day the test runs.
    assert result["messages"] >= 2
    with engine.session() as session:
        assert session.get(Message, two_towns["old"]) is None
        assert session.get(Message, two_towns["jena_old"]) is not None


def test_cli_needs_a_workspace_for_an_own_policy(run: Callable[..., Run]) -> None:
    done = run("retention", "--days", "30")
    assert done.returncode == 2
    assert "bitte --workspace angeben" in done.stderr
    refused = run("--workspace", "standard", "retention", "--days", "0")
    assert refused.returncode == 2 and "ab 1" in refused.stderr


@pytest.mark.parametrize("mode", ["anonymise", "delete"])
def test_closed_old_tickets_follow_the_retention_open_ones_stay(engine: Engine,
                                                                mode: str) -> None:
    from pipelines import handoff
    from pipelines.store.models import Ticket, TicketEvent

    c1 = conversation(engine, "standard", "bot-a", "public", "t1")
    turn(engine, c1, days_ago(300), "Ich möchte mit einem Menschen sprechen", "mensch", 10,
         handoff=True)
    c2 = conversation(engine, "standard", "bot-a", "public", "t2")
    turn(engine, c2, days_ago(300), "Ich möchte mit einem Menschen sprechen", "mensch", 10,
         handoff=True)
    old = handoff.create_ticket(engine, "standard", c1, "b@example.org").ticket
    still_open = handoff.create_ticket(engine, "standard", c2).ticket
    handoff.reply(engine, "standard", old.id, "Die Antwort mit Details", "clerk")
    handoff.close(engine, "standard", old.id, "clerk")
    with engine.session() as session:  # both last changed 200 days ago
        for ticket in session.scalars(select(Ticket)):
            ticket.updated_at = days_ago(200)
    set_policy(engine, "standard", 180, mode)

    [result] = apply_retention(engine, "standard")

    assert result.tickets == 1 and "1 geschlossene Anfragen" in result.describe()
    with engine.session() as session:
        kept = session.get(Ticket, still_open.id)
        assert kept is not None and kept.question  # open: untouched
        gone = session.get(Ticket, old.id)
        details = list(session.scalars(select(TicketEvent.detail)
                                       .where(TicketEvent.ticket_id == old.id)))
        if mode == "delete":
            assert gone is None and details == []
        else:
            assert gone is not None and gone.status == "geschlossen"
            assert (gone.question, gone.transcript, gone.reply) == ("", [], None)
            assert gone.office_name and details and set(details) == {""}
    # Idempotent.
    assert apply_retention(engine, "standard")[0].tickets == 0
