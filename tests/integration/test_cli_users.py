"""`python -m pipelines users ...` as an operator uses it: real subprocesses on a fresh data
folder, checked against the accounts they leave in the store.

The module runs one realistic sequence of calls (each a new interpreter, ~1–2 s) and the tests
look at the results.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher

from pipelines.accounts import UserRepository
from pipelines.engine import Engine
from pipelines.settings import REPO_ROOT, Settings
from tests.support.cli import Run

pytestmark = pytest.mark.slow

ANNA_PASSWORD = "Anna-im-Buergerbuero-1"
ANNA_NEW_PASSWORD = "Neues-Passwort-fuer-Anna"
DORA_PASSWORD = "Dora-bewertet-Antworten"
SECRETS = (ANNA_PASSWORD, ANNA_NEW_PASSWORD, DORA_PASSWORD, "zu-kurz", "Erstes-Passwort-123",
           "Zweites-Passwort-456")


class Cli:
    def __init__(self, data_dir: Path, cwd: Path) -> None:
        self.data_dir = data_dir
        self.cwd = cwd
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("CHATWERKSTATT_")}
        self.env.update(CHATWERKSTATT_DATA_DIR=str(data_dir), PYTHONPATH=str(REPO_ROOT))
        self.runs: list[Run] = []

    def __call__(self, *args: str, stdin: str = "", before: tuple[str, ...] = ()) -> Run:
        """`python -m pipelines [before...] users args...`"""
        done = subprocess.run(
            [sys.executable, "-m", "pipelines", *before, "users", *args], cwd=self.cwd,
            env=self.env,
            input=stdin, capture_output=True, text=True, timeout=120,
        )
        run = Run(list(args), done.returncode, done.stdout, done.stderr)
        self.runs.append(run)
        return run


@dataclass
class Session:
    cli: Cli
    add_anna: Run
    add_anna_again: Run
    add_bad_role: Run
    add_short_password: Run
    add_empty_stdin: Run
    add_dora_prompted: Run
    add_prompt_mismatch: Run
    set_role: Run
    set_role_unknown_user: Run
    list_text: Run
    list_json: Run
    list_jena_json: Run
    list_empty_workspace: Run
    list_global_workspace_option: Run
    passwd: Run
    disable: Run
    disable_unknown: Run
    list_after_disable: Run
    disable_anna: Run
    enable_anna: Run

    def repository_check(self, fn: Any) -> Any:
        settings = Settings(_env_file=None, data_dir=self.cli.data_dir)  # type: ignore[call-arg]
        with Engine(settings).session() as session:
            return fn(UserRepository(session))


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    root = tmp_path_factory.mktemp("cli-users")
    cwd = root / "cwd"  # no .env of the developer's checkout can leak in
    cwd.mkdir()
    cli = Cli(root / "data", cwd)
    runs = Session(
        cli=cli,
        add_anna=cli("add", "Anna.Schmidt", "--workspace", "jena", "--role", "editor",
                     "--name", "Anna Schmidt", "--email", "anna@musterstadt.de",
                     "--password-stdin", stdin=ANNA_PASSWORD + "\n"),
        add_anna_again=cli("add", "anna.schmidt", "--workspace", "jena", "--role", "admin",
                           "--password-stdin", stdin="Erstes-Passwort-123\n"),
        add_bad_role=cli("add", "bernd", "--workspace", "jena", "--role", "chef",
                         "--password-stdin", stdin="Erstes-Passwort-123\n"),
        add_short_password=cli("add", "carla", "--workspace", "jena", "--role", "analyst",
                               "--password-stdin", stdin="zu-kurz\n"),
        add_empty_stdin=cli("add", "emil", "--workspace", "jena", "--role", "analyst",
                            "--password-stdin", stdin=""),
        # without --password-stdin and without a terminal, getpass reads the two answers
        # from stdin
        add_dora_prompted=cli("add", "dora", "--workspace", "sueder", "--role", "evaluator",
                              stdin=f"{DORA_PASSWORD}\n{DORA_PASSWORD}\n"),
        add_prompt_mismatch=cli("add", "frank", "--workspace", "sueder", "--role", "editor",
                                stdin="Erstes-Passwort-123\nZweites-Passwort-456\n"),
        set_role=cli("set-role", "anna.schmidt", "--workspace", "sueder", "--role", "analyst"),
        set_role_unknown_user=cli("set-role", "niemand", "--workspace", "jena", "--role",
                                  "editor"),
        list_text=cli("list"),
        list_json=cli("list", "--json"),
        list_jena_json=cli("list", "--workspace", "jena", "--json"),
        list_empty_workspace=cli("list", "--workspace", "leer"),
        list_global_workspace_option=cli("list", "--json", before=("--workspace", "sueder")),
        passwd=cli("passwd", "anna.schmidt", "--password-stdin",
                   stdin=ANNA_NEW_PASSWORD + "\n"),
        disable=cli("disable", "dora"),
        disable_unknown=cli("disable", "niemand"),
        list_after_disable=cli("list", "--json"),
        disable_anna=cli("disable", "anna.schmidt"),
        enable_anna=cli("enable", "Anna.Schmidt"),
    )
    yield runs


def test_add_creates_the_user_with_the_role(session: Session) -> None:
    run = session.add_anna
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == (
        "Benutzer „anna.schmidt“ angelegt: Redaktion im Arbeitsbereich „jena“.")

    def check(repo: UserRepository) -> tuple[Any, ...]:
        user = repo.require("anna.schmidt")
        return user.display_name, user.email, repo.role_in(user, "jena")

    assert session.repository_check(check) == ("Anna Schmidt", "anna@musterstadt.de", "editor")


def test_add_refuses_with_exit_1_and_a_german_reason(session: Session) -> None:
    expected = {
        "add_anna_again": "Den Benutzernamen „anna.schmidt“ gibt es schon.",
        "add_bad_role": "Unbekannte Rolle „chef“. Gültige Rollen: admin (Administration), "
                        "editor (Redaktion), analyst (Analyse), evaluator (Bewertung), "
                        "clerk (Sachbearbeitung).",
        "add_short_password": "Das Passwort ist zu kurz: mindestens 10 Zeichen (jetzt 7).",
        "add_empty_stdin": "Auf der Standardeingabe kam kein Passwort an.",
        "add_prompt_mismatch": "Die beiden Passwörter stimmen nicht überein.",
    }
    for name, message in expected.items():
        run: Run = getattr(session, name)
        assert run.returncode == 1, (name, run.stdout, run.stderr)
        assert f"Fehler: {message}" in run.stderr, (name, run.stderr)
        assert run.stdout == "", name
        assert "Traceback" not in run.stderr, name
    users = {u["username"] for u in session.list_json.json()}
    assert not {"bernd", "carla", "emil", "frank"} & users  # nothing half-created


def test_add_without_password_stdin_asks_twice(session: Session) -> None:
    run = session.add_dora_prompted
    assert run.returncode == 0, run.stderr
    prompts = run.stdout + run.stderr
    assert "Neues Passwort: " in prompts and "Passwort wiederholen: " in prompts
    # dora is disabled later in the sequence, so the stored hash is checked directly
    stored = session.repository_check(lambda repo: repo.require("dora").password_hash)
    assert PasswordHasher().verify(stored, DORA_PASSWORD)
    dora = next(u for u in session.list_json.json() if u["username"] == "dora")
    assert dora["workspaces"] == {"sueder": "evaluator"}


def test_set_role_adds_a_second_workspace(session: Session) -> None:
    assert session.set_role.returncode == 0, session.set_role.stderr
    assert "Analyse" in session.set_role.stdout and "„sueder“" in session.set_role.stdout
    assert session.set_role_unknown_user.returncode == 1
    assert "Fehler: Den Benutzer „niemand“ gibt es nicht." in session.set_role_unknown_user.stderr


def test_list_shows_users_roles_and_status(session: Session) -> None:
    run = session.list_text
    assert run.returncode == 0, run.stderr
    lines = {line.split()[0]: line for line in run.stdout.splitlines()}
    assert set(lines) == {"anna.schmidt", "dora"}
    assert "aktiv" in lines["anna.schmidt"]
    assert "jena: Redaktion, sueder: Analyse" in lines["anna.schmidt"]
    assert "(Anna Schmidt)" in lines["anna.schmidt"]
    assert "sueder: Bewertung" in lines["dora"]

    everyone = {u["username"]: u for u in session.list_json.json()}
    assert everyone["anna.schmidt"]["workspaces"] == {"jena": "editor", "sueder": "analyst"}
    assert everyone["anna.schmidt"]["login"] == "passwort"
    assert everyone["dora"]["active"] is True
    assert [u["username"] for u in session.list_jena_json.json()] == ["anna.schmidt"]
    assert session.list_empty_workspace.returncode == 0
    assert session.list_empty_workspace.stdout.strip() == "Keine Benutzer im Arbeitsbereich „leer“."
    # the program-wide --workspace works for `users list` too
    in_sueder = session.list_global_workspace_option.json()
    assert [u["username"] for u in in_sueder] == ["anna.schmidt", "dora"]


def test_passwd_changes_the_password(session: Session) -> None:
    assert session.passwd.returncode == 0, session.passwd.stderr
    assert session.passwd.stdout.strip() == "Passwort von „anna.schmidt“ geändert."
    old_ok, new_ok = session.repository_check(lambda repo: (
        repo.authenticate("anna.schmidt", ANNA_PASSWORD) is not None,
        repo.authenticate("anna.schmidt", ANNA_NEW_PASSWORD) is not None,
    ))
    assert (old_ok, new_ok) == (False, True)


def test_disable_locks_the_user_out(session: Session) -> None:
    assert session.disable.returncode == 0, session.disable.stderr
    assert "„dora“ ist gesperrt" in session.disable.stdout
    assert session.disable_unknown.returncode == 1
    assert "Fehler: Den Benutzer „niemand“ gibt es nicht." in session.disable_unknown.stderr
    after = {u["username"]: u for u in session.list_after_disable.json()}
    assert after["dora"]["active"] is False
    signed_in = session.repository_check(
        lambda repo: repo.authenticate("dora", DORA_PASSWORD) is not None)
    assert signed_in is False


def test_no_password_or_hash_is_ever_printed(session: Session) -> None:
    assert len(session.cli.runs) == 20
    for run in session.cli.runs:
        shown = run.stdout + run.stderr
        assert "$argon2" not in shown, run.args
        for secret in SECRETS:
            assert secret not in shown, (run.args, secret)


def test_enable_lets_a_disabled_user_back_in(session: Session) -> None:
    assert session.disable_anna.returncode == 0, session.disable_anna.stderr
    assert session.enable_anna.returncode == 0, session.enable_anna.stderr
    assert session.enable_anna.stdout.strip() == "„anna.schmidt“ ist wieder aktiv."
    rights = session.repository_check(lambda repo: (
        repo.authenticate("anna.schmidt", ANNA_NEW_PASSWORD) is not None,
        repo.workspaces_of(repo.require("anna.schmidt")),
    ))
    assert rights == (True, {"jena": "editor", "sueder": "analyst"})
