"""A small but real OpenID Connect provider on 127.0.0.1 for sign-in tests.

It speaks the authorization code flow as Streamlit's `st.login` (through Authlib) uses it:
discovery, an authorization endpoint that approves the configured test user at once, a token
endpoint that checks the client's credentials, the code, the redirect URI and PKCE, RS256
ID tokens verifiable with the published JWKS, userinfo, and RP-initiated logout. Standard
library HTTP server; keys from `cryptography`, tokens signed with `joserfc`.

    with FakeOidcProvider(client_id="werkstatt", client_secret="geheim",
                          redirect_uris=["http://127.0.0.1:8501/oauth2callback"]) as idp:
        idp.user = OidcUser(subject="a1b2", email="anna@musterstadt.de", name="Anna")
        ... idp.metadata_url ...
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qs, unquote_plus, urlencode, urlsplit, urlunsplit

from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc import jwt
from joserfc.jwk import RSAKey

ID_TOKEN_LIFETIME_SECONDS = 300
CODE_LIFETIME_SECONDS = 60


@dataclass
class OidcUser:
    """The person the provider signs in (there is no login form: it approves at once)."""

    subject: str
    email: str | None = None
    name: str | None = None

    def claims(self) -> dict[str, Any]:
        values: dict[str, Any] = {"sub": self.subject}
        if self.email is not None:
            values.update(email=self.email, email_verified=True)
        if self.name is not None:
            values["name"] = self.name
        return values


@dataclass
class RecordedRequest:
    method: str
    path: str
    params: dict[str, str]
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class _Grant:
    code: str
    client_id: str
    redirect_uri: str
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    user: OidcUser
    issued_at: float


class OAuthFailure(Exception):
    """An error answer of the token or userinfo endpoint (RFC 6749 section 5.2)."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _left_half_hash(value: str) -> str:
    """`at_hash` for RS256: the left half of the SHA-256 of the token, base64url."""
    digest = hashlib.sha256(value.encode("ascii")).digest()
    return _b64url(digest[: len(digest) // 2])


class FakeOidcProvider:
    """OpenID provider with one registered confidential client and one approving user."""

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        redirect_uris: list[str],
        user: OidcUser | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uris = list(redirect_uris)
        self.user = user or OidcUser(subject="test-subject", email="test@example.org",
                                     name="Test User")
        self._host = host
        self._port = port
        self._lock = threading.Lock()
        self._grants: dict[str, _Grant] = {}
        self._access_tokens: dict[str, dict[str, Any]] = {}
        self.requests: list[RecordedRequest] = []
        self.issued_id_tokens: list[dict[str, Any]] = []
        private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._kid = secrets.token_hex(8)
        self._key = RSAKey.import_key(private_key, parameters={"kid": self._kid, "use": "sig",
                                                               "alg": "RS256"})
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ---- lifecycle

    def start(self) -> Self:
        if self._httpd is not None:
            return self
        httpd = ThreadingHTTPServer((self._host, self._port), _Handler)
        httpd.daemon_threads = True
        httpd.provider = self  # type: ignore[attr-defined]
        self._httpd = httpd
        self._thread = threading.Thread(target=httpd.serve_forever,
                                        kwargs={"poll_interval": 0.05},
                                        name=f"fake-oidc-{httpd.server_address[1]}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        httpd.shutdown()
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    # ---- addresses

    @property
    def issuer(self) -> str:
        if self._httpd is None:
            raise RuntimeError("FakeOidcProvider is not running")
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def metadata_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    def metadata(self) -> dict[str, Any]:
        issuer = self.issuer
        return {
            "issuer": issuer,
            "authorization_endpoint": f"{issuer}/authorize",
            "token_endpoint": f"{issuer}/token",
            "userinfo_endpoint": f"{issuer}/userinfo",
            "jwks_uri": f"{issuer}/jwks",
            "end_session_endpoint": f"{issuer}/logout",
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "email", "profile"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic",
                                                      "client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nonce", "email",
                                 "email_verified", "name"],
        }

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self._key.as_dict(private=False)]}

    def requests_to(self, path: str) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.path == path]

    # ---- endpoints

    def authorize(self, params: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        """Approve the configured user: redirect back with a one-time code and the state."""
        redirect_uri = params.get("redirect_uri", "")
        if params.get("client_id") != self.client_id:
            return _text(400, "unknown client_id")
        if redirect_uri not in self.redirect_uris:  # never redirect to an unregistered URI
            return _text(400, f"redirect_uri not registered: {redirect_uri!r}")
        answer: dict[str, str] = {}
        if "state" in params:
            answer["state"] = params["state"]
        if params.get("response_type") != "code":
            answer.update(error="unsupported_response_type")
        elif "openid" not in params.get("scope", "").split():
            answer.update(error="invalid_scope", error_description="scope must contain openid")
        elif params.get("code_challenge") and params.get("code_challenge_method") != "S256":
            answer.update(error="invalid_request", error_description="only S256 PKCE")
        else:
            code = secrets.token_urlsafe(24)
            grant = _Grant(code=code, client_id=self.client_id, redirect_uri=redirect_uri,
                           nonce=params.get("nonce"),
                           code_challenge=params.get("code_challenge"),
                           code_challenge_method=params.get("code_challenge_method"),
                           user=self.user, issued_at=time.time())
            with self._lock:
                self._grants[code] = grant
            answer["code"] = code
        return _redirect(_with_query(redirect_uri, answer))

    def token(self, form: dict[str, str], authorization: str | None) -> dict[str, Any]:
        client_id, client_secret = self._client_credentials(form, authorization)
        if client_id != self.client_id or not secrets.compare_digest(
                client_secret.encode(), self.client_secret.encode()):
            raise OAuthFailure("invalid_client", "client authentication failed", 401)
        if form.get("grant_type") != "authorization_code":
            raise OAuthFailure("unsupported_grant_type", "only authorization_code")
        with self._lock:  # a code is good for one exchange only
            grant = self._grants.pop(form.get("code", ""), None)
        if grant is None or time.time() - grant.issued_at > CODE_LIFETIME_SECONDS:
            raise OAuthFailure("invalid_grant", "unknown, used or expired code")
        if form.get("redirect_uri") != grant.redirect_uri:
            raise OAuthFailure("invalid_grant", "redirect_uri differs from the authorization")
        if grant.code_challenge is not None:
            verifier = form.get("code_verifier", "")
            expected = _b64url(hashlib.sha256(verifier.encode("ascii")).digest())
            if not verifier or expected != grant.code_challenge:
                raise OAuthFailure("invalid_grant", "PKCE code_verifier does not match")
        access_token = secrets.token_urlsafe(32)
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer, "aud": grant.client_id, "iat": now,
            "exp": now + ID_TOKEN_LIFETIME_SECONDS, "auth_time": now,
            "at_hash": _left_half_hash(access_token), **grant.user.claims(),
        }
        if grant.nonce is not None:
            claims["nonce"] = grant.nonce
        id_token = jwt.encode({"alg": "RS256", "kid": self._kid, "typ": "JWT"}, claims,
                              self._key)
        with self._lock:
            self._access_tokens[access_token] = grant.user.claims()
            self.issued_id_tokens.append(claims)
        return {"access_token": access_token, "token_type": "Bearer",
                "expires_in": ID_TOKEN_LIFETIME_SECONDS, "id_token": id_token,
                "scope": "openid email profile"}

    def userinfo(self, authorization: str | None) -> dict[str, Any]:
        scheme, _, token = (authorization or "").partition(" ")
        with self._lock:
            claims = self._access_tokens.get(token) if scheme.lower() == "bearer" else None
        if claims is None:
            raise OAuthFailure("invalid_token", "unknown access token", 401)
        return dict(claims)

    def logout(self, params: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        """RP-initiated logout: back to the client if it names a registered URI."""
        target = params.get("post_logout_redirect_uri")
        if target and target in self.redirect_uris and params.get("client_id") == self.client_id:
            extra = {"state": params["state"]} if "state" in params else {}
            return _redirect(_with_query(target, extra))
        return _text(200, "Abgemeldet.")

    def _client_credentials(self, form: dict[str, str],
                            authorization: str | None) -> tuple[str, str]:
        scheme, _, value = (authorization or "").partition(" ")
        if scheme.lower() == "basic":
            try:
                decoded = base64.b64decode(value, validate=True).decode("utf-8")
            except (ValueError, UnicodeDecodeError) as exc:
                raise OAuthFailure("invalid_client", "malformed Basic credentials", 401) from exc
            client_id, _, client_secret = decoded.partition(":")
            # RFC 6749 2.3.1: both parts are form-urlencoded before Basic encoding.
            return unquote_plus(client_id), unquote_plus(client_secret)
        return form.get("client_id", ""), form.get("client_secret", "")


# --------------------------------------------------------------------------- HTTP


def _with_query(url: str, params: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = "&".join(q for q in (parts.query, urlencode(params)) if q)
    return urlunsplit(parts._replace(query=query))


def _redirect(location: str) -> tuple[int, dict[str, str], bytes]:
    return 302, {"Location": location}, b""


def _text(status: int, text: str) -> tuple[int, dict[str, str], bytes]:
    return status, {"Content-Type": "text/plain; charset=utf-8"}, text.encode("utf-8")


def _json(status: int, payload: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
    headers = {"Content-Type": "application/json", "Cache-Control": "no-store"}
    return status, headers, json.dumps(payload).encode("utf-8")


def _single_values(query: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(query, keep_blank_values=True).items()}


class _Handler(BaseHTTPRequestHandler):
    server_version = "FakeOIDC/1.0"
    protocol_version = "HTTP/1.1"

    @property
    def provider(self) -> FakeOidcProvider:
        return self.server.provider  # type: ignore[attr-defined,no-any-return]

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - keep quiet
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        url = urlsplit(self.path)
        params = _single_values(url.query)
        self._record("GET", url.path, params)
        provider = self.provider
        if url.path == "/.well-known/openid-configuration":
            self._send(*_json(200, provider.metadata()))
        elif url.path == "/jwks":
            self._send(*_json(200, provider.jwks()))
        elif url.path == "/authorize":
            self._send(*provider.authorize(params))
        elif url.path == "/userinfo":
            self._answer(lambda: provider.userinfo(self.headers.get("Authorization")))
        elif url.path == "/logout":
            self._send(*provider.logout(params))
        else:
            self._send(*_text(404, "not found"))

    def do_POST(self) -> None:  # noqa: N802 - http.server naming
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        form = _single_values(self.rfile.read(length).decode("utf-8"))
        self._record("POST", url.path, form)
        provider = self.provider
        if url.path == "/token":
            self._answer(lambda: provider.token(form, self.headers.get("Authorization")))
        elif url.path == "/userinfo":
            self._answer(lambda: provider.userinfo(self.headers.get("Authorization")))
        else:
            self._send(*_text(404, "not found"))

    def _answer(self, produce: Any) -> None:
        try:
            payload = produce()
        except OAuthFailure as failure:
            self._send(*_json(failure.status, {"error": failure.error,
                                               "error_description": failure.description}))
            return
        self._send(*_json(200, payload))

    def _record(self, method: str, path: str, params: dict[str, str]) -> None:
        provider = self.provider
        with provider._lock:
            provider.requests.append(RecordedRequest(method, path, params, dict(self.headers)))

    def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
