"""Single sign-on through Streamlit's st.login against a real OpenID provider, in a browser.

The workspace runs as `streamlit run` on every interface (so it requires a login) with an
`[auth]` section in `.streamlit/secrets.toml` of its working folder; the provider is
tests/support/fake_oidc.py on loopback (code flow with PKCE, RS256 ID tokens, RP-initiated
logout). Chromium follows every redirect itself: workspace -> provider -> /oauth2callback ->
workspace. The path walked: first sign-in lands on "no role yet", an administrator grants a
role with the CLI, a reload shows the workspace, "Abmelden" ends the session at the workspace
and at the provider. Screenshots: test-artifacts/browser/oidc-*.png.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import select

from apps.ui.texts import TEXTS
from evaluation.browser import WorkspaceServer, engine_env, run_cli, wait_until_idle
from pipelines.store.db import session_scope
from pipelines.store.models import User
from tests.browser.conftest import ARTIFACTS, WatchedPage
from tests.support.fake_oidc import FakeOidcProvider, OidcUser

pytestmark = [pytest.mark.slow, pytest.mark.browser]

CLIENT_ID = "chatwerkstatt-test"
ANNA = OidcUser(subject="9c1e5f02-7d4b-4f0e-b7a5-anna", email="anna.schmidt@musterstadt.de",
                name="Anna Schmidt")
ANNA_USERNAME = "anna.schmidt@musterstadt.de"  # derived from the e-mail on first sign-in
BERND = OidcUser(subject="5d77a0e1-bernd", email="bernd.krause@musterstadt.de",
                 name="Bernd Krause")
TEXT = TEXTS["de"]
SSO_BUTTON = TEXT["login.oidc"]
# The first page builds the engine (database migrations) on two cores.
SLOW_STEP_MS = 120_000


@dataclass
class Setup:
    url: str
    data_dir: Path
    env: dict[str, str]
    cwd: Path
    idp: FakeOidcProvider


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    root = tmp_path_factory.mktemp("browser-oidc")
    data_dir, cwd, home = root / "data", root / "cwd", root / "home"
    # Streamlit reads secrets from <cwd>/.streamlit/ and ~/.streamlit/: both are ours.
    (cwd / ".streamlit").mkdir(parents=True)
    home.mkdir()
    env = engine_env(data_dir, {"HOME": str(home), "NO_PROXY": "127.0.0.1,localhost",
                                "no_proxy": "127.0.0.1,localhost"})
    with FakeOidcProvider(client_id=CLIENT_ID, client_secret=secrets.token_urlsafe(24),
                          redirect_uris=[], user=ANNA) as idp:
        # Streamlit fills in "{port}" itself; the provider learns the URI once it is known.
        (cwd / ".streamlit" / "secrets.toml").write_text(
            "[auth]\n"
            'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
            f"cookie_secret = {json.dumps(secrets.token_urlsafe(32))}\n"
            f"client_id = {json.dumps(idp.client_id)}\n"
            f"client_secret = {json.dumps(idp.client_secret)}\n"
            f"server_metadata_url = {json.dumps(idp.metadata_url)}\n",
            encoding="utf-8")
        with WorkspaceServer(data_dir, ARTIFACTS / "server-oidc.log", address="0.0.0.0",
                             env=env, cwd=cwd) as server:
            idp.redirect_uris.append(f"{server.url}/oauth2callback")
            yield Setup(server.url, data_dir, env, cwd, idp)


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"oidc-{name}.png", full_page=True)


def sidebar(page: Page) -> Locator:
    return page.get_by_test_id("stSidebar")


def heading(page: Page, title: str) -> Locator:
    return page.get_by_test_id("stMain").get_by_role("heading", name=title, exact=True)


def users(setup: Setup, email: str | None) -> list[dict[str, Any]]:
    """The accounts with this e-mail address (a duplicate would be 'name-2' with the same)."""
    done = run_cli(["users", "list", "--json"], setup.env, cwd=setup.cwd)
    return [u for u in json.loads(done.stdout) if u["email"] == email]


def stored_user(setup: Setup, username: str) -> User:
    url = f"sqlite:///{setup.data_dir / 'chatwerkstatt.db'}"
    with session_scope(url) as session:
        user = session.scalar(select(User).where(User.username == username))
        assert user is not None, f"no user row {username!r}"
        return user


def auth_cookies(page: Page) -> list[str]:
    return [c["name"] for c in page.context.cookies() if c["name"].startswith("_streamlit_user")]


def test_sso_first_login_role_grant_reload_and_sign_out(setup: Setup,
                                                        watched: WatchedPage) -> None:
    page, idp = watched.page, setup.idp
    idp.user = ANNA
    authorize_before = len(idp.requests_to("/authorize"))
    token_before = len(idp.requests_to("/token"))

    # The server listens on 0.0.0.0: login page, with single sign-on offered.
    page.goto(setup.url)
    expect(heading(page, TEXT["login.title"])).to_be_visible(timeout=SLOW_STEP_MS)
    wait_until_idle(page)
    sso = page.get_by_role("button", name=SSO_BUTTON)
    expect(sso).to_be_visible()
    shot(page, "01-anmelden")

    # First sign-in: through the provider and back, then "no role yet" and whom to ask.
    sso.click()
    warning = page.get_by_test_id("stAlertContentWarning")
    expect(warning).to_contain_text(TEXT["login.no_workspace"].split("`")[0].strip(),
                                    timeout=SLOW_STEP_MS)
    expect(warning.locator("code")).to_have_text("python -m pipelines users set-role")
    wait_until_idle(page)
    assert page.url.rstrip("/") == setup.url, "back in the workspace after the callback"
    expect(sidebar(page)).to_contain_text(
        TEXT["login.signed_in"].format(name=ANNA.name, role="–"))
    expect(heading(page, TEXT["nav.start"])).to_have_count(0)
    expect(page.get_by_test_id("stSidebarNav")).to_have_count(0)
    assert auth_cookies(page), "Streamlit keeps the identity in its auth cookie"
    shot(page, "02-keine-rolle")

    authorize = idp.requests_to("/authorize")[authorize_before:]
    assert len(authorize) == 1
    sent = authorize[0].params
    assert sent["client_id"] == CLIENT_ID
    assert sent["redirect_uri"] == f"{setup.url}/oauth2callback"
    assert set(sent["scope"].split()) >= {"openid", "email", "profile"}
    assert sent["code_challenge_method"] == "S256"  # the provider announced PKCE support
    assert len(idp.requests_to("/token")) == token_before + 1
    assert idp.issued_id_tokens[-1]["nonce"] == sent["nonce"]
    assert idp.issued_id_tokens[-1]["sub"] == ANNA.subject

    # The account exists now: OIDC subject, no password, no rights.
    listed = users(setup, ANNA.email)
    assert [(u["username"], u["login"], u["email"], u["display_name"], u["workspaces"])
            for u in listed] == [(ANNA_USERNAME, "oidc", ANNA.email, ANNA.name, {})]
    row = stored_user(setup, ANNA_USERNAME)
    assert row.oidc_subject == ANNA.subject
    assert row.password_hash is None
    assert row.is_active and row.last_login_at is not None

    # An administrator grants a role; a reload (new session, same cookie) shows the workspace.
    run_cli(["users", "set-role", ANNA_USERNAME, "--workspace", "standard", "--role", "editor"],
            setup.env, cwd=setup.cwd)
    page.reload()
    expect(heading(page, TEXT["nav.start"])).to_be_visible(timeout=SLOW_STEP_MS)
    wait_until_idle(page)
    expect(sidebar(page)).to_contain_text(
        TEXT["login.signed_in"].format(name=ANNA.name, role="Redaktion"))
    nav = page.get_by_test_id("stSidebarNav")
    for title in ("Start", "Bots", "Dokumente", "Chat testen", "Einstellungen"):
        expect(nav.get_by_role("link", name=title, exact=True)).to_be_visible()
    expect(page.get_by_test_id("stAlertContentWarning").filter(
        has_text="noch keine Rolle")).to_have_count(0)
    assert len(idp.requests_to("/authorize")) == authorize_before + 1, "the cookie carried it"
    assert [u["username"] for u in users(setup, ANNA.email)] == [ANNA_USERNAME], "no 2nd account"
    shot(page, "03-start")

    # Sign-out: the workspace forgets the user and sends the browser to its /auth/logout, on
    # to the provider's logout and back (one navigation with redirects; the rerun shows the
    # login page a moment before it starts, so wait for the navigation itself).
    with page.expect_navigation(url=lambda url: url.rstrip("/") == setup.url,
                                timeout=30_000):
        sidebar(page).get_by_role("button", name=TEXT["login.sign_out"]).click()
    expect(page.get_by_role("button", name=SSO_BUTTON)).to_be_visible(timeout=SLOW_STEP_MS)
    wait_until_idle(page)
    expect(heading(page, TEXT["login.title"])).to_be_visible()
    expect(page.get_by_test_id("stSidebarNav")).to_have_count(0)
    assert auth_cookies(page) == []
    logout = idp.requests_to("/logout")
    assert len(logout) == 1, "only this test signs out"
    assert logout[0].params["client_id"] == CLIENT_ID
    assert logout[0].params["post_logout_redirect_uri"] == f"{setup.url}/oauth2callback"
    assert logout[0].params.get("id_token_hint"), "the provider is told whose session ends"
    shot(page, "04-abgemeldet")

    # Still signed out after a reload: nothing remembered the user.
    page.reload()
    expect(page.get_by_role("button", name=SSO_BUTTON)).to_be_visible(timeout=SLOW_STEP_MS)
    wait_until_idle(page)
    expect(heading(page, TEXT["nav.start"])).to_have_count(0)
    assert len(idp.requests_to("/authorize")) == authorize_before + 1

    assert not watched.errors, "\n".join(watched.errors)


def test_deactivated_sso_account_stays_outside_and_is_told_so(setup: Setup,
                                                             watched: WatchedPage) -> None:
    page, idp = watched.page, setup.idp
    idp.user = BERND
    page.goto(setup.url)
    page.get_by_role("button", name=SSO_BUTTON).click(timeout=SLOW_STEP_MS)
    expect(page.get_by_test_id("stAlertContentWarning")).to_contain_text(
        "noch keine Rolle", timeout=SLOW_STEP_MS)
    wait_until_idle(page)
    (bernd,) = users(setup, BERND.email)
    run_cli(["users", "set-role", bernd["username"], "--workspace", "standard", "--role",
             "analyst"], setup.env, cwd=setup.cwd)
    run_cli(["users", "disable", bernd["username"]], setup.env, cwd=setup.cwd)

    # Streamlit's identity cookie still says "signed in"; the deactivated account does not.
    refused = page.get_by_test_id("stAlertContentError")
    for attempt in ("reload", "sso-again"):
        if attempt == "reload":
            page.reload()
        else:  # the provider approves again at once; the workspace still refuses
            with page.expect_navigation(url=lambda url: url.rstrip("/") == setup.url,
                                        timeout=30_000):
                page.get_by_role("button", name=SSO_BUTTON).click()
        expect(refused).to_contain_text(TEXT["login.oidc_refused"], timeout=SLOW_STEP_MS)
        wait_until_idle(page)
        expect(heading(page, TEXT["login.title"])).to_be_visible()
        expect(page.get_by_test_id("stSidebarNav")).to_have_count(0)
        expect(page.get_by_text("Angemeldet:")).to_have_count(0)
        shot(page, f"05-gesperrt-{attempt}")
    assert idp.issued_id_tokens[-1]["sub"] == BERND.subject
    assert sum(t["sub"] == BERND.subject for t in idp.issued_id_tokens) == 2

    # The refusal was the deactivation: enabled again, the same cookie gets in at once.
    run_cli(["users", "enable", bernd["username"]], setup.env, cwd=setup.cwd)
    page.reload()
    expect(heading(page, TEXT["nav.start"])).to_be_visible(timeout=SLOW_STEP_MS)
    wait_until_idle(page)
    expect(sidebar(page)).to_contain_text(
        TEXT["login.signed_in"].format(name=BERND.name, role="Analyse"))
    expect(refused).to_have_count(0)

    assert not watched.errors, "\n".join(watched.errors)
