"""Roles and rights: the permission matrix, the pages each role sees, and when a login is
required (only a loopback-only server is single-user)."""

from __future__ import annotations

import pytest

from pipelines.accounts import (
    ACTION_LABELS,
    ACTIONS,
    PAGE_ACTIONS,
    PERMISSIONS,
    ROLES,
    allowed,
    login_required,
    role_label,
    visible_pages,
)

# The matrix as the product wants it, written out once more on purpose: a change to the
# code's matrix must be a change to this specification too.
EXPECTED: dict[str, set[str]] = {
    "admin": set(ACTIONS),
    "editor": {
        "workspace.view", "bots.view", "bots.edit", "bots.publish", "documents.view",
        "documents.edit", "chat.test", "feedback.give", "settings.view", "answers.edit",
    },
    "analyst": {"workspace.view", "analytics.view", "bots.view", "documents.view"},
    "evaluator": {
        "workspace.view", "chat.test", "feedback.give", "evaluation.view", "evaluation.score",
    },
    # Clerks answer handed-over questions and keep the curated answers; they may try the bot.
    "clerk": {"workspace.view", "inbox.handle", "answers.edit", "chat.test"},
}

REQUIRED_ACTIONS = {
    "bots.view", "bots.edit", "bots.publish", "documents.view", "documents.edit", "chat.test",
    "feedback.give", "analytics.view", "evaluation.view", "evaluation.score", "settings.view",
    "settings.edit", "users.manage", "inbox.handle", "answers.edit",
}


def test_the_five_roles_have_german_labels_and_descriptions() -> None:
    assert set(ROLES) == {"admin", "editor", "analyst", "evaluator", "clerk"}
    labels = {info.label for info in ROLES.values()}
    assert len(labels) == 5  # distinguishable in a select box
    assert role_label("clerk") == "Sachbearbeitung"
    assert role_label("editor") == "Redaktion"
    assert role_label("analyst") == "Analyse"
    for key, info in ROLES.items():
        assert info.key == key
        assert info.label and info.label != key
        assert info.description.endswith(".") and "\n" not in info.description
        assert len(info.description) <= 100


def test_every_required_action_exists_and_has_a_german_label() -> None:
    assert REQUIRED_ACTIONS <= set(ACTIONS)
    assert set(ACTION_LABELS) == set(ACTIONS)
    assert all(label and label not in ACTIONS for label in ACTION_LABELS.values())


def test_matrix_matches_the_specification() -> None:
    assert {role: set(actions) for role, actions in PERMISSIONS.items()} == EXPECTED
    for role, actions in EXPECTED.items():
        for action in ACTIONS:
            assert allowed(role, action) is (action in actions), (role, action)  # type: ignore[arg-type]


def test_analyst_may_look_at_bots_but_never_change_them() -> None:
    assert allowed("analyst", "bots.view")
    assert not allowed("analyst", "bots.edit")
    assert not allowed("analyst", "bots.publish")
    assert not allowed("analyst", "documents.edit")
    assert not allowed("analyst", "settings.edit")
    assert allowed("analyst", "analytics.view")


def test_evaluator_cannot_see_analytics_but_scores_answers() -> None:
    assert not allowed("evaluator", "analytics.view")
    assert "analyse" not in visible_pages("evaluator")
    assert allowed("evaluator", "evaluation.score")
    assert allowed("evaluator", "chat.test")
    assert allowed("evaluator", "feedback.give")
    assert not allowed("evaluator", "bots.edit")


def test_only_admins_manage_users_and_change_settings() -> None:
    for action in ("users.manage", "settings.edit"):
        assert [role for role in ROLES if allowed(role, action)] == ["admin"]  # type: ignore[arg-type]


def test_no_role_or_an_unknown_role_may_do_nothing() -> None:
    for role in (None, "", "superuser", "Admin"):
        assert not any(allowed(role, action) for action in ACTIONS)  # type: ignore[arg-type]
        assert visible_pages(role) == []


def test_an_unknown_action_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="bots.edti"):
        allowed("admin", "bots.edti")  # type: ignore[arg-type]


def test_pages_need_known_actions_and_keep_menu_order() -> None:
    assert {"start", "bots", "dokumente", "chat", "einstellungen", "analyse", "bewertung",
            "posteingang", "antworten", "protokoll"} == set(PAGE_ACTIONS)
    assert set(PAGE_ACTIONS.values()) <= set(ACTIONS)
    assert list(PAGE_ACTIONS)[0] == "start"


@pytest.mark.parametrize(("role", "pages"), [
    ("admin", ["start", "bots", "dokumente", "chat", "posteingang", "antworten", "analyse",
               "bewertung", "protokoll", "einstellungen"]),
    ("editor", ["start", "bots", "dokumente", "chat", "antworten", "protokoll",
                "einstellungen"]),
    ("clerk", ["start", "chat", "posteingang", "antworten", "protokoll"]),
    ("analyst", ["start", "bots", "dokumente", "analyse", "protokoll"]),
    ("evaluator", ["start", "chat", "bewertung", "protokoll"]),
])
def test_visible_pages_per_role(role: str, pages: list[str]) -> None:
    assert visible_pages(role) == pages


@pytest.mark.parametrize("address", [
    "127.0.0.1", "127.0.0.2", "127.255.255.254", "::1", "[::1]", "localhost", "LOCALHOST",
    " localhost ", "::ffff:127.0.0.1",
])
def test_loopback_only_needs_no_login(address: str) -> None:
    assert login_required(address) is False


@pytest.mark.parametrize("address", [
    "", "0.0.0.0", "::", "[::]", "192.168.1.20", "10.0.0.5", "172.16.0.1", "fe80::1",
    "2001:db8::1", "128.0.0.1", "chatwerkstatt.musterstadt.de", "localhost.musterstadt.de",
    "mein-laptop", "::ffff:192.168.1.20",
])
def test_every_other_address_needs_a_login(address: str) -> None:
    assert login_required(address) is True


def test_clerk_sees_the_inbox_and_curated_answers_but_no_bots_or_analytics() -> None:
    pages = visible_pages("clerk")
    assert "posteingang" in pages and "antworten" in pages
    assert "bots" not in pages and "analyse" not in pages and "dokumente" not in pages
    assert "posteingang" not in visible_pages("editor")
    assert "antworten" in visible_pages("editor")
    assert "posteingang" not in visible_pages("analyst")
