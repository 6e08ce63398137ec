"""Staff accounts on a real SQLite store (and PostgreSQL where a server can run): argon2
hashes, sign-in, rights per workspace, OIDC users, German errors."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from argon2 import PasswordHasher, extract_parameters
from sqlalchemy import func, select, text

from pipelines.accounts import AccountError, UserRepository
from pipelines.engine import Engine
from pipelines.settings import Settings
from pipelines.store.models import Membership, User

PASSWORD = "Rathaus-Musterstadt-2026"


class CountingHasher(PasswordHasher):
    """The real argon2 hasher, remembering which hashes it was asked to verify."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.verified: list[str] = []

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:  # noqa: A002
        self.verified.append(hash if isinstance(hash, str) else hash.decode())
        return super().verify(hash, password)


def cheap_hasher(time_cost: int = 1, memory_cost: int = 8) -> CountingHasher:
    """Real argon2id with tiny costs, so the tests do not spend a second per hash."""
    return CountingHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=1)


@pytest.fixture
def hasher() -> CountingHasher:
    return cheap_hasher()


def add_anna(engine: Engine, hasher: PasswordHasher, **extra: Any) -> None:
    with engine.session() as session:
        UserRepository(session, hasher).create_user("anna.schmidt", PASSWORD, **extra)


# --------------------------------------------------------------------------- hashing


def test_password_is_stored_as_salted_argon2id_never_in_plain(engine: Engine) -> None:
    with engine.session() as session:
        repo = UserRepository(session)  # the production hasher
        repo.create_user("anna.schmidt", PASSWORD)
        repo.create_user("bernd", PASSWORD)

    with engine.session() as session:
        rows = session.execute(text("SELECT * FROM users")).all()
        hashes = dict(session.execute(select(User.username, User.password_hash)).all())
    assert PASSWORD not in repr(rows)
    anna, bernd = hashes["anna.schmidt"], hashes["bernd"]
    assert anna is not None and bernd is not None
    assert anna.startswith("$argon2id$") and bernd.startswith("$argon2id$")
    assert anna != bernd  # a salt per hash
    parameters = extract_parameters(anna)
    # RFC 9106's second recommended profile, argon2-cffi's default
    assert (parameters.memory_cost, parameters.time_cost, parameters.parallelism) == (
        65536, 3, 4)
    with engine.session() as session:
        assert UserRepository(session).authenticate("anna.schmidt", PASSWORD) is not None


def test_rehash_when_the_parameters_changed(engine: Engine) -> None:
    old, new = cheap_hasher(time_cost=1), cheap_hasher(time_cost=2, memory_cost=16)
    add_anna(engine, old)
    with engine.session() as session:
        before = UserRepository(session).require("anna.schmidt").password_hash
    assert before is not None and extract_parameters(before).time_cost == 1

    with engine.session() as session:
        assert UserRepository(session, new).authenticate("anna.schmidt", PASSWORD) is not None
    with engine.session() as session:
        after = UserRepository(session).require("anna.schmidt").password_hash
    assert after is not None and after != before
    params = extract_parameters(after)
    assert (params.time_cost, params.memory_cost) == (2, 16)

    # the new hash works, and a second sign-in with unchanged parameters keeps it
    with engine.session() as session:
        assert UserRepository(session, new).authenticate("anna.schmidt", PASSWORD) is not None
    with engine.session() as session:
        assert UserRepository(session).require("anna.schmidt").password_hash == after


# --------------------------------------------------------------------------- sign-in


def test_right_password_signs_in_and_records_the_time(engine: Engine,
                                                      hasher: CountingHasher) -> None:
    add_anna(engine, hasher, display_name="Anna Schmidt", email="anna@musterstadt.de")

    with engine.session() as session:
        user = UserRepository(session, hasher).authenticate("anna.schmidt", PASSWORD)
        assert user is not None
        assert (user.username, user.display_name, user.email) == (
            "anna.schmidt", "Anna Schmidt", "anna@musterstadt.de")
    with engine.session() as session:
        stored = UserRepository(session).require("anna.schmidt")
        assert stored.last_login_at is not None


def test_usernames_are_case_insensitive(engine: Engine, hasher: CountingHasher) -> None:
    with engine.session() as session:
        created = UserRepository(session, hasher).create_user("  Anna.Schmidt ", PASSWORD)
        assert created.username == "anna.schmidt"
    with engine.session() as session:
        assert UserRepository(session, hasher).authenticate("ANNA.schmidt", PASSWORD) is not None


def test_refusals_each_cost_exactly_one_verification(engine: Engine,
                                                     hasher: CountingHasher) -> None:
    add_anna(engine, hasher)
    with engine.session() as session:
        repo = UserRepository(session, hasher)
        repo.create_user("carla", PASSWORD)
        repo.deactivate("carla")
        repo.oidc_user("oidc-subject-1", "dora@musterstadt.de", "Dora")
    real_hash = _hash_of(engine, "anna.schmidt")

    cases = {
        "wrong password": ("anna.schmidt", PASSWORD + "x"),
        "empty password": ("anna.schmidt", ""),
        "unknown user": ("niemand", PASSWORD),
        "invalid username": ("x", PASSWORD),
        "inactive user": ("carla", PASSWORD),
        "OIDC user without password": ("dora@musterstadt.de", PASSWORD),
    }
    for case, (username, password) in cases.items():
        hasher.verified.clear()
        with engine.session() as session:
            assert UserRepository(session, hasher).authenticate(username, password) is None, case
        assert len(hasher.verified) == 1, case
        # the stand-in hash has the same parameters, hence the same cost, as a real one
        checked = extract_parameters(hasher.verified[0])
        assert checked == extract_parameters(real_hash), case

    with engine.session() as session:
        assert UserRepository(session).require("anna.schmidt").last_login_at is None


def test_deactivated_user_can_neither_sign_in_nor_use_old_rights(
    engine: Engine, hasher: CountingHasher
) -> None:
    add_anna(engine, hasher)
    with engine.session() as session:
        repo = UserRepository(session, hasher)
        repo.grant("anna.schmidt", "jena", "editor")
        kept = repo.authenticate("anna.schmidt", PASSWORD)  # e.g. held by a UI session
    assert kept is not None

    with engine.session() as session:
        UserRepository(session, hasher).deactivate("anna.schmidt")

    with engine.session() as session:
        repo = UserRepository(session, hasher)
        assert repo.authenticate("anna.schmidt", PASSWORD) is None
        assert repo.role_in(kept, "jena") is None
        assert repo.workspaces_of(kept) == {}
        # the membership itself stays, so reactivating restores the rights
        repo.activate("anna.schmidt")
        assert repo.role_in(kept, "jena") == "editor"
        assert repo.authenticate("anna.schmidt", PASSWORD) is not None


def test_set_password_replaces_the_old_one(engine: Engine, hasher: CountingHasher) -> None:
    add_anna(engine, hasher)
    with engine.session() as session:
        UserRepository(session, hasher).set_password("anna.schmidt", "ganz-neues-Passwort")
    with engine.session() as session:
        repo = UserRepository(session, hasher)
        assert repo.authenticate("anna.schmidt", PASSWORD) is None
        assert repo.authenticate("anna.schmidt", "ganz-neues-Passwort") is not None


# --------------------------------------------------------------------------- workspaces


def test_rights_are_per_workspace(engine: Engine, hasher: CountingHasher) -> None:
    add_anna(engine, hasher)
    with engine.session() as session:
        repo = UserRepository(session, hasher)
        repo.create_user("bernd", PASSWORD)
        repo.grant("anna.schmidt", "jena", "editor")
        repo.grant("bernd", "sueder", "admin")

    with engine.session() as session:
        repo = UserRepository(session, hasher)
        anna, bernd = repo.require("anna.schmidt"), repo.require("bernd")
        assert repo.role_in(anna, "jena") == "editor"
        assert repo.role_in(anna, "sueder") is None
        assert repo.role_in(bernd, "jena") is None  # admin of one workspace, not of all
        assert repo.role_in(bernd, "sueder") == "admin"
        assert repo.workspaces_of(anna) == {"jena": "editor"}

        repo.grant("anna.schmidt", "jena", "analyst")  # a change, not a second membership
        repo.grant("anna.schmidt", "sueder", "evaluator")
        assert repo.workspaces_of(anna) == {"jena": "analyst", "sueder": "evaluator"}
        count = session.scalar(
            select(func.count()).select_from(Membership).where(Membership.user_id == anna.id))
        assert count == 2

        assert repo.revoke("anna.schmidt", "jena") is True
        assert repo.revoke("anna.schmidt", "jena") is False
        assert repo.role_in(anna, "jena") is None
        assert repo.workspaces_of(anna) == {"sueder": "evaluator"}


def test_list_users_all_or_per_workspace(engine: Engine, hasher: CountingHasher) -> None:
    add_anna(engine, hasher, display_name="Anna Schmidt")
    with engine.session() as session:
        repo = UserRepository(session, hasher)
        repo.create_user("bernd", PASSWORD)
        repo.grant("anna.schmidt", "jena", "editor")
        repo.grant("anna.schmidt", "sueder", "analyst")
        repo.grant("bernd", "sueder", "admin")
        repo.deactivate("bernd")
        repo.oidc_user("sub-42", None, None)

    with engine.session() as session:
        repo = UserRepository(session, hasher)
        everyone = repo.list_users()
        in_jena = repo.list_users("jena")
        in_sueder = repo.list_users("sueder")
        nowhere = repo.list_users("gibt-es-nicht")

    assert [u.username for u in everyone] == sorted(u.username for u in everyone)
    by_name = {u.username: u for u in everyone}
    assert set(by_name) == {"anna.schmidt", "bernd", next(n for n in by_name
                                                             if n.startswith("oidc-"))}
    anna = by_name["anna.schmidt"]
    assert anna.workspaces == {"jena": "editor", "sueder": "analyst"}  # all of them, listed
    assert (anna.display_name, anna.is_active, anna.login) == ("Anna Schmidt", True, "passwort")
    assert by_name["bernd"].is_active is False
    assert [u.username for u in in_jena] == ["anna.schmidt"]
    assert [u.username for u in in_sueder] == ["anna.schmidt", "bernd"]
    assert nowhere == []
    assert all("hash" not in field for field in vars(anna))


# --------------------------------------------------------------------------- OIDC


def test_oidc_user_is_created_without_rights_and_found_again(engine: Engine,
                                                             hasher: CountingHasher) -> None:
    with engine.session() as session:
        user = UserRepository(session, hasher).oidc_user(
            "a1b2-c3", "Jörg.Müller@Musterstadt.de", "Jörg Müller")
        assert user.username == "joerg.mueller@musterstadt.de"
        assert (user.display_name, user.email) == ("Jörg Müller", "Jörg.Müller@Musterstadt.de")
        assert user.password_hash is None and user.is_active
        assert user.last_login_at is not None
        assert UserRepository(session, hasher).workspaces_of(user) == {}
        first_id = user.id

    with engine.session() as session:  # next sign-in: same user, provider's new name
        again = UserRepository(session, hasher).oidc_user("a1b2-c3", None, "Jörg Müller-Weiß")
        assert again.id == first_id
        assert again.display_name == "Jörg Müller-Weiß"
        assert again.email == "Jörg.Müller@Musterstadt.de"  # no address sent: kept
        assert UserRepository(session, hasher).list_users()[0].login == "oidc"


def test_oidc_never_takes_over_a_password_account(engine: Engine,
                                                  hasher: CountingHasher) -> None:
    with engine.session() as session:
        repo = UserRepository(session, hasher)
        repo.create_user("anna@musterstadt.de", PASSWORD, email="anna@musterstadt.de")
        repo.grant("anna@musterstadt.de", "jena", "admin")
        oidc = repo.oidc_user("fremd-1", "anna@musterstadt.de", "Anna")
        assert oidc.username == "anna@musterstadt.de-2"
        assert repo.workspaces_of(oidc) == {}
        nameless = repo.oidc_user("fremd-2", "kaputt", "")
        assert nameless.username.startswith("oidc-") and nameless.email is None
        assert repo.oidc_user("fremd-2", None, None).id == nameless.id


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(("call", "message"), [
    (lambda r: r.create_user("ab", PASSWORD), "3 bis 120 Zeichen"),
    (lambda r: r.create_user("a" * 121, PASSWORD), "3 bis 120 Zeichen"),
    (lambda r: r.create_user("anna schmidt", PASSWORD), "unerlaubte Zeichen"),
    (lambda r: r.create_user("jörg", PASSWORD), "unerlaubte Zeichen"),
    (lambda r: r.create_user("bernd", "kurz"), "mindestens 10 Zeichen"),
    (lambda r: r.create_user("bernd.mueller", "Bernd.Mueller"), "nicht der Benutzername"),
    (lambda r: r.create_user("bernd", PASSWORD, email="kein-at"), "E-Mail-Adresse"),
    (lambda r: r.create_user("anna.schmidt", PASSWORD), "„anna.schmidt“ gibt es schon"),
    (lambda r: r.create_user("Anna.Schmidt", PASSWORD), "„anna.schmidt“ gibt es schon"),
    (lambda r: r.grant("anna.schmidt", "jena", "chef"),
     "Unbekannte Rolle „chef“. Gültige Rollen: admin (Administration), editor (Redaktion), "
     "analyst (Analyse), evaluator (Bewertung), clerk (Sachbearbeitung)."),
    (lambda r: r.grant("anna.schmidt", "Jena Stadt", "editor"), "Ungültiger Arbeitsbereich"),
    (lambda r: r.grant("niemand", "jena", "editor"), "Den Benutzer „niemand“ gibt es nicht."),
    (lambda r: r.set_password("anna.schmidt", "123"), "Das Passwort ist zu kurz"),
    (lambda r: r.deactivate("niemand"), "gibt es nicht"),
    (lambda r: r.oidc_user("  ", "x@y.de", "X"), "keine gültige Kennung"),
])
def test_refusals_are_account_errors_in_german(
    engine: Engine, hasher: CountingHasher, call: Callable[[UserRepository], object],
    message: str,
) -> None:
    add_anna(engine, hasher)
    with pytest.raises(AccountError) as caught, engine.session() as session:
        call(UserRepository(session, hasher))
    assert message in str(caught.value)
    assert isinstance(caught.value, ValueError)
    with engine.session() as session:  # nothing half-done was kept
        assert session.scalar(select(func.count()).select_from(User)) == 1
        assert session.scalar(select(func.count()).select_from(Membership)) == 0


# --------------------------------------------------------------------------- PostgreSQL


def test_accounts_on_postgresql(postgres_url: str, make_settings: Callable[..., Settings]
                                ) -> None:
    engine = Engine(make_settings(database_url=postgres_url))
    hasher = cheap_hasher()
    add_anna(engine, hasher, display_name="Anna Schmidt – Bürgerbüro")
    with engine.session() as session:
        repo = UserRepository(session, hasher)
        repo.grant("anna.schmidt", "jena", "editor")
        oidc = repo.oidc_user("pg-sub", "dora@musterstadt.de", "Dora Ößwald")
        repo.grant(oidc.username, "sueder", "evaluator")

    with engine.session() as session:
        repo = UserRepository(session, cheap_hasher(time_cost=2))
        anna = repo.authenticate("Anna.Schmidt", PASSWORD)
        assert anna is not None and anna.display_name == "Anna Schmidt – Bürgerbüro"
        assert repo.authenticate("anna.schmidt", "falsch-falsch") is None
        assert repo.workspaces_of(anna) == {"jena": "editor"}
        assert repo.role_in(anna, "sueder") is None
        dora = repo.oidc_user("pg-sub", None, None)
        assert repo.workspaces_of(dora) == {"sueder": "evaluator"}
    assert extract_parameters(_hash_of(engine, "anna.schmidt")).time_cost == 2  # rehashed

    with pytest.raises(AccountError, match="gibt es schon"), engine.session() as session:
        UserRepository(session, hasher).create_user("anna.schmidt", PASSWORD)


def test_two_admins_creating_the_same_user_at_once_on_postgresql(
    postgres_url: str, make_settings: Callable[..., Settings]
) -> None:
    """The second insert waits for the first transaction and is then refused in German,
    not with a database error."""
    engine = Engine(make_settings(database_url=postgres_url))
    hasher = cheap_hasher()
    outcome: list[BaseException | None] = []

    def second_admin() -> None:
        try:
            with engine.session() as session:
                UserRepository(session, hasher).create_user("gleichzeitig", PASSWORD)
        except BaseException as exc:  # reported to the test thread
            outcome.append(exc)
        else:
            outcome.append(None)

    with engine.session() as session:
        UserRepository(session, hasher).create_user("gleichzeitig", PASSWORD)
        thread = threading.Thread(target=second_admin)
        thread.start()
        time.sleep(1.0)  # the other insert now waits on our uncommitted row
    thread.join(timeout=30)

    assert len(outcome) == 1
    assert isinstance(outcome[0], AccountError), outcome
    assert "„gleichzeitig“ gibt es schon" in str(outcome[0])
    with engine.session() as session:
        count = session.scalar(
            select(func.count()).select_from(User).where(User.username == "gleichzeitig"))
        assert count == 1


def _hash_of(engine: Engine, username: str) -> str:
    with engine.session() as session:
        value = UserRepository(session).require(username).password_hash
    assert value is not None
    return value
