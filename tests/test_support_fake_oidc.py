"""The fake OpenID provider is accepted by a real client library (Authlib) and refuses what a
real provider refuses, so a sign-in test against it proves something."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from authlib.common.security import generate_token
from authlib.integrations.base_client import OAuthError
from authlib.integrations.httpx_client import OAuth2Client
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.support.fake_oidc import FakeOidcProvider, OidcUser

CLIENT_ID = "chatwerkstatt"
CLIENT_SECRET = "ein-geheimnis-fuer-tests"
REDIRECT_URI = "http://127.0.0.1:9/oauth2callback"
ANNA = OidcUser(subject="0f3c-anna", email="anna.schmidt@musterstadt.de", name="Anna Schmidt")


@pytest.fixture
def idp() -> Iterator[FakeOidcProvider]:
    with FakeOidcProvider(client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
                          redirect_uris=[REDIRECT_URI], user=ANNA) as provider:
        yield provider


@pytest.fixture
def metadata(idp: FakeOidcProvider) -> dict[str, Any]:
    response = httpx.get(idp.metadata_url, trust_env=False)
    response.raise_for_status()
    return dict(response.json())


def _client(secret: str = CLIENT_SECRET) -> OAuth2Client:
    return OAuth2Client(CLIENT_ID, secret, scope="openid email profile",
                        redirect_uri=REDIRECT_URI, code_challenge_method="S256",
                        trust_env=False)


def _authorize(metadata: dict[str, Any], client: OAuth2Client, verifier: str,
               nonce: str = "nonce-42") -> tuple[str, str]:
    """(callback URL the provider redirects to, state sent)."""
    url, state = client.create_authorization_url(metadata["authorization_endpoint"],
                                                 nonce=nonce, code_verifier=verifier)
    response = httpx.get(url, trust_env=False)
    assert response.status_code == 302, response.text
    return response.headers["Location"], state


def test_code_flow_with_pkce_yields_a_verifiable_id_token(
        idp: FakeOidcProvider, metadata: dict[str, Any]) -> None:
    assert metadata["issuer"] == idp.issuer
    client, verifier = _client(), generate_token(48)
    callback, state = _authorize(metadata, client, verifier)

    assert callback.startswith(REDIRECT_URI + "?")
    query = parse_qs(urlsplit(callback).query)
    assert query["state"] == [state]
    token = client.fetch_token(metadata["token_endpoint"], authorization_response=callback,
                               code_verifier=verifier)

    keys = KeySet.import_key_set(httpx.get(metadata["jwks_uri"], trust_env=False).json())
    decoded = jwt.decode(token["id_token"], keys, algorithms=["RS256"])
    claims = decoded.claims
    assert decoded.header["alg"] == "RS256"
    assert (claims["iss"], claims["aud"], claims["nonce"]) == (idp.issuer, CLIENT_ID, "nonce-42")
    assert (claims["sub"], claims["email"], claims["name"]) == (
        ANNA.subject, ANNA.email, ANNA.name)
    assert claims["iat"] <= claims["exp"]

    userinfo = httpx.get(metadata["userinfo_endpoint"], trust_env=False,
                         headers={"Authorization": f"Bearer {token['access_token']}"})
    assert userinfo.json()["sub"] == ANNA.subject


def test_a_code_is_good_for_one_exchange_only(
        idp: FakeOidcProvider, metadata: dict[str, Any]) -> None:
    client, verifier = _client(), generate_token(48)
    callback, _ = _authorize(metadata, client, verifier)
    client.fetch_token(metadata["token_endpoint"], authorization_response=callback,
                       code_verifier=verifier)
    with pytest.raises(OAuthError, match="invalid_grant"):
        _client().fetch_token(metadata["token_endpoint"], authorization_response=callback,
                              code_verifier=verifier)


def test_wrong_client_secret_and_wrong_pkce_verifier_are_refused(
        idp: FakeOidcProvider, metadata: dict[str, Any]) -> None:
    verifier = generate_token(48)
    callback, _ = _authorize(metadata, _client(), verifier)
    with pytest.raises(OAuthError, match="invalid_client"):
        _client("falsch").fetch_token(metadata["token_endpoint"],
                                      authorization_response=callback, code_verifier=verifier)

    callback, _ = _authorize(metadata, _client(), verifier)
    with pytest.raises(OAuthError, match="invalid_grant"):
        _client().fetch_token(metadata["token_endpoint"], authorization_response=callback,
                              code_verifier=generate_token(48))
    assert idp.issued_id_tokens == []


def test_unregistered_redirect_uri_gets_no_redirect(
        idp: FakeOidcProvider, metadata: dict[str, Any]) -> None:
    response = httpx.get(metadata["authorization_endpoint"], trust_env=False, params={
        "client_id": CLIENT_ID, "response_type": "code", "scope": "openid",
        "redirect_uri": "http://evil.example/callback", "state": "s"})
    assert response.status_code == 400
    assert "Location" not in response.headers


def test_logout_returns_only_to_a_registered_uri(
        idp: FakeOidcProvider, metadata: dict[str, Any]) -> None:
    back = httpx.get(metadata["end_session_endpoint"], trust_env=False, params={
        "client_id": CLIENT_ID, "post_logout_redirect_uri": REDIRECT_URI})
    assert (back.status_code, back.headers["Location"]) == (302, REDIRECT_URI)
    elsewhere = httpx.get(metadata["end_session_endpoint"], trust_env=False, params={
        "client_id": CLIENT_ID, "post_logout_redirect_uri": "http://evil.example/"})
    assert elsewhere.status_code == 200
    assert "Location" not in elsewhere.headers
