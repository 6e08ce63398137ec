"""Staff accounts, their roles per workspace, and what each role may do.

A user belongs to workspaces through memberships; the role of the membership decides which
actions and pages the user gets there. Passwords are stored as argon2id hashes only.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final, Literal, get_args

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pipelines.bots import SLUG_PATTERN, get_or_create_workspace
from pipelines.store.models import Membership, User, Workspace

# --------------------------------------------------------------------------- roles and rights

Role = Literal["admin", "editor", "analyst", "evaluator", "clerk"]
Action = Literal[
    "workspace.view",
    "bots.view",
    "bots.edit",
    "bots.publish",
    "documents.view",
    "documents.edit",
    "chat.test",
    "feedback.give",
    "analytics.view",
    "evaluation.view",
    "evaluation.score",
    "inbox.handle",
    "answers.edit",
    "settings.view",
    "settings.edit",
    "users.manage",
]
ROLE_KEYS: Final[tuple[str, ...]] = get_args(Role)
ACTIONS: Final[tuple[str, ...]] = get_args(Action)


@dataclass(frozen=True)
class RoleInfo:
    key: str
    label: str
    description: str


ROLES: Final[dict[str, RoleInfo]] = {
    "admin": RoleInfo(
        "admin", "Administration",
        "Verwaltet den Arbeitsbereich: Bots, Dokumente, Einstellungen und Zugänge.",
    ),
    "editor": RoleInfo(
        "editor", "Redaktion",
        "Baut und pflegt Bots und Dokumente, testet sie im Chat und veröffentlicht sie.",
    ),
    "analyst": RoleInfo(
        "analyst", "Analyse",
        "Sieht die Auswertungen der Gespräche; Bots und Dokumente nur zum Ansehen.",
    ),
    "evaluator": RoleInfo(
        "evaluator", "Bewertung",
        "Testet Bots im Chat, gibt Rückmeldungen und bewertet Antworten.",
    ),
    "clerk": RoleInfo(
        "clerk", "Sachbearbeitung",
        "Beantwortet an Menschen übergebene Anfragen im Posteingang und pflegt geprüfte "
        "Antworten.",
    ),
}

ACTION_LABELS: Final[dict[str, str]] = {
    "workspace.view": "Arbeitsbereich öffnen",
    "bots.view": "Bots ansehen",
    "bots.edit": "Bots bearbeiten",
    "bots.publish": "Bots veröffentlichen",
    "documents.view": "Dokumente ansehen",
    "documents.edit": "Dokumente hochladen und löschen",
    "chat.test": "Bots im Chat testen",
    "feedback.give": "Rückmeldung zu Antworten geben",
    "analytics.view": "Auswertungen ansehen",
    "evaluation.view": "Bewertungen ansehen",
    "evaluation.score": "Antworten bewerten",
    "inbox.handle": "Übergebene Anfragen im Posteingang bearbeiten",
    "answers.edit": "Geprüfte Antworten pflegen",
    "settings.view": "Einstellungen ansehen",
    "settings.edit": "Einstellungen ändern",
    "users.manage": "Zugänge verwalten",
}

PERMISSIONS: Final[dict[str, frozenset[str]]] = {
    "admin": frozenset(ACTIONS),
    "editor": frozenset({
        "workspace.view", "bots.view", "bots.edit", "bots.publish", "documents.view",
        "documents.edit", "chat.test", "feedback.give", "settings.view", "answers.edit",
    }),
    "analyst": frozenset({"workspace.view", "analytics.view", "bots.view", "documents.view"}),
    "evaluator": frozenset({
        "workspace.view", "chat.test", "feedback.give", "evaluation.view", "evaluation.score",
    }),
    "clerk": frozenset({"workspace.view", "inbox.handle", "answers.edit", "chat.test"}),
}

# Workspace pages in menu order and the action that lets a role see each.
PAGE_ACTIONS: Final[dict[str, Action]] = {
    "start": "workspace.view",
    "bots": "bots.view",
    "dokumente": "documents.view",
    "chat": "chat.test",
    "posteingang": "inbox.handle",
    "antworten": "answers.edit",
    "analyse": "analytics.view",
    "bewertung": "evaluation.view",
    "protokoll": "workspace.view",
    "einstellungen": "settings.view",
}


def role_label(role: str) -> str:
    """The German name of a role ('Redaktion'); an unknown key is shown as it is."""
    info = ROLES.get(role)
    return info.label if info else role


def allowed(role: str | None, action: Action) -> bool:
    """May a member with `role` do `action`? No role (no membership) or an unknown one: no.

    An unknown action is a programming error and raises, so a typo never silently denies
    (or, worse, is mistaken for a right nobody has).
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}; known: {', '.join(ACTIONS)}")
    if role is None:
        return False
    return action in PERMISSIONS.get(role, frozenset())


def visible_pages(role: str | None) -> list[str]:
    """Keys of the workspace pages `role` may see, in menu order."""
    return [page for page, action in PAGE_ACTIONS.items() if allowed(role, action)]


def login_required(address: str) -> bool:
    """Must users sign in when the server listens on `address`?

    Only a loopback-only server (127.0.0.0/8, ::1, localhost) is single-user; every other
    address, including all interfaces ('', 0.0.0.0, ::) and any host name, needs a login.
    Host names are not resolved: what a name points to can change after the check.
    """
    host = address.strip().lower()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if host in {"localhost", "localhost."}:
        return False
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return True
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_loopback


# --------------------------------------------------------------------------- accounts

USERNAME_RE = re.compile(r"^[a-z0-9._@-]{3,120}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD_LENGTH = 10
# argon2 hashes any length, but a megabyte "password" would only cost us CPU.
MAX_PASSWORD_LENGTH = 1024
MAX_DISPLAY_NAME_LENGTH = 200
MAX_EMAIL_LENGTH = 300
MAX_SUBJECT_LENGTH = 300

LoginKind = Literal["passwort", "oidc", "keine"]


class AccountError(ValueError):
    """An account operation refused; the message is German and names the problem."""


@dataclass(frozen=True)
class UserSummary:
    """What lists of users show; never the password hash."""

    username: str
    display_name: str
    email: str | None
    is_active: bool
    login: LoginKind
    created_at: datetime
    last_login_at: datetime | None
    workspaces: dict[str, str] = field(default_factory=dict)  # slug -> role


def normalize_username(username: str) -> str:
    """Usernames are case-insensitive: 'Anna.Schmidt' and 'anna.schmidt' are one account."""
    return username.strip().lower()


def validate_username(username: str) -> str:
    name = normalize_username(username)
    if not 3 <= len(name) <= 120:
        raise AccountError(
            f"Der Benutzername „{name}“ muss 3 bis 120 Zeichen lang sein (jetzt {len(name)})."
        )
    if not USERNAME_RE.match(name):
        raise AccountError(
            f"Der Benutzername „{name}“ enthält unerlaubte Zeichen: erlaubt sind nur "
            "Kleinbuchstaben a–z (ohne Umlaute), Ziffern und . - _ @"
        )
    return name


def validate_password(password: str, username: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(
            f"Das Passwort ist zu kurz: mindestens {MIN_PASSWORD_LENGTH} Zeichen "
            f"(jetzt {len(password)})."
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AccountError(
            f"Das Passwort ist zu lang: höchstens {MAX_PASSWORD_LENGTH} Zeichen."
        )
    if password.strip().lower() == normalize_username(username):
        raise AccountError("Das Passwort darf nicht der Benutzername sein.")


def validate_role(role: str) -> str:
    if role not in ROLES:
        valid = ", ".join(f"{key} ({info.label})" for key, info in ROLES.items())
        raise AccountError(f"Unbekannte Rolle „{role}“. Gültige Rollen: {valid}.")
    return role


def validate_workspace_slug(slug: str) -> str:
    if not SLUG_PATTERN.match(slug):
        raise AccountError(
            f"Ungültiger Arbeitsbereich „{slug}“: 1–80 Zeichen, Kleinbuchstaben a–z, Ziffern, "
            "Bindestriche (nicht am Anfang/Ende)."
        )
    return slug


def _clean_email(email: str | None) -> str | None:
    if email is None or not email.strip():
        return None
    value = email.strip()
    if len(value) > MAX_EMAIL_LENGTH or not EMAIL_RE.match(value):
        raise AccountError(f"Die E-Mail-Adresse „{value}“ ist ungültig.")
    return value


def _clean_display_name(name: str) -> str:
    value = " ".join(name.split())
    if len(value) > MAX_DISPLAY_NAME_LENGTH:
        raise AccountError(
            f"Der Anzeigename ist zu lang: höchstens {MAX_DISPLAY_NAME_LENGTH} Zeichen."
        )
    return value


def _parameters_key(hasher: PasswordHasher) -> tuple[object, ...]:
    return (hasher.time_cost, hasher.memory_cost, hasher.parallelism, hasher.hash_len,
            hasher.salt_len, hasher.type)


# One hash per parameter set, to verify against when there is no real hash to check: the
# answer for an unknown user must take as long as for a known one with a wrong password.
_DUMMY_HASHES: dict[tuple[object, ...], str] = {}


class UserRepository:
    """Users and memberships in the relational store; the caller's session commits."""

    def __init__(self, session: Session, hasher: PasswordHasher | None = None) -> None:
        self.session = session
        # argon2-cffi's defaults are RFC 9106's low-memory profile (argon2id, 64 MiB, t=3).
        self.hasher = hasher or PasswordHasher()

    # ------------------------------------------------------------------ lookups

    def get(self, username: str) -> User | None:
        return self.session.scalar(
            select(User).where(User.username == normalize_username(username))
        )

    def require(self, username: str) -> User:
        user = self.get(username)
        if user is None:
            raise AccountError(f"Den Benutzer „{normalize_username(username)}“ gibt es nicht.")
        return user

    def role_in(self, user: User, workspace_slug: str) -> str | None:
        """The user's role in the workspace; None without membership or when deactivated.

        Reads the database, not the given object, so a deactivation or a revoked right holds
        at once even for a user object kept in a UI session.
        """
        return self.session.scalar(
            select(Membership.role)
            .join(Workspace, Workspace.id == Membership.workspace_id)
            .join(User, User.id == Membership.user_id)
            .where(User.id == user.id, User.is_active.is_(True), Workspace.slug == workspace_slug)
        )

    def workspaces_of(self, user: User) -> dict[str, str]:
        """Workspace slug -> role for every workspace the user may enter (none if inactive)."""
        rows = self.session.execute(
            select(Workspace.slug, Membership.role)
            .join(Membership, Membership.workspace_id == Workspace.id)
            .join(User, User.id == Membership.user_id)
            .where(User.id == user.id, User.is_active.is_(True))
            .order_by(Workspace.slug)
        ).all()
        return {slug: role for slug, role in rows}

    def list_users(self, workspace_slug: str | None = None) -> list[UserSummary]:
        """All users (or the members of one workspace), by username, with their memberships."""
        query = select(User).order_by(User.username)
        if workspace_slug is not None:
            query = (
                query.join(Membership, Membership.user_id == User.id)
                .join(Workspace, Workspace.id == Membership.workspace_id)
                .where(Workspace.slug == workspace_slug)
            )
        users = list(self.session.scalars(query))
        memberships: dict[int, dict[str, str]] = {user.id: {} for user in users}
        if users:
            rows = self.session.execute(
                select(Membership.user_id, Workspace.slug, Membership.role)
                .join(Workspace, Workspace.id == Membership.workspace_id)
                .where(Membership.user_id.in_(list(memberships)))
                .order_by(Workspace.slug)
            ).all()
            for user_id, slug, role in rows:
                memberships[user_id][slug] = role
        return [
            UserSummary(
                username=user.username,
                display_name=user.display_name,
                email=user.email,
                is_active=user.is_active,
                login=_login_kind(user),
                created_at=user.created_at,
                last_login_at=user.last_login_at,
                workspaces=memberships[user.id],
            )
            for user in users
        ]

    # ------------------------------------------------------------------ changes

    def create_user(self, username: str, password: str, display_name: str = "",
                    email: str | None = None) -> User:
        name = validate_username(username)
        validate_password(password, name)
        user = User(
            username=name,
            display_name=_clean_display_name(display_name),
            email=_clean_email(email),
            password_hash=self.hasher.hash(password),
        )
        self._insert(user)
        return user

    def set_password(self, username: str, password: str) -> None:
        user = self.require(username)
        validate_password(password, user.username)
        user.password_hash = self.hasher.hash(password)
        self.session.flush()

    def deactivate(self, username: str) -> None:
        """Sign-in and all workspace rights end at once; memberships stay for reactivation."""
        self.require(username).is_active = False
        self.session.flush()

    def activate(self, username: str) -> None:
        self.require(username).is_active = True
        self.session.flush()

    def grant(self, username: str, workspace_slug: str, role: str) -> Membership:
        """Give the user `role` in the workspace (created if new); changes an existing role."""
        validate_role(role)
        validate_workspace_slug(workspace_slug)
        user = self.require(username)
        workspace = get_or_create_workspace(self.session, workspace_slug)
        membership = self.session.scalar(
            select(Membership).where(
                Membership.user_id == user.id, Membership.workspace_id == workspace.id
            )
        )
        if membership is None:
            membership = Membership(user_id=user.id, workspace_id=workspace.id, role=role)
            self.session.add(membership)
        else:
            membership.role = role
        self.session.flush()
        return membership

    def revoke(self, username: str, workspace_slug: str) -> bool:
        """Remove the user's membership in the workspace; False if there was none."""
        user = self.require(username)
        membership = self.session.scalar(
            select(Membership)
            .join(Workspace, Workspace.id == Membership.workspace_id)
            .where(Membership.user_id == user.id, Workspace.slug == workspace_slug)
        )
        if membership is None:
            return False
        self.session.delete(membership)
        self.session.flush()
        return True

    # ------------------------------------------------------------------ sign-in

    def authenticate(self, username: str, password: str) -> User | None:
        """The active user with this password, or None.

        Every refusal costs one argon2 verification, like a wrong password does, so the
        answer time does not tell whether a username exists.
        """
        dummy = self._dummy_hash()
        user = self.get(username)
        stored = user.password_hash if user is not None and user.is_active else None
        try:
            self.hasher.verify(stored or dummy, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return None
        if user is None or stored is None:  # the dummy hash matched: still no account
            return None
        if self.hasher.check_needs_rehash(stored):
            user.password_hash = self.hasher.hash(password)
        user.last_login_at = datetime.now(UTC)
        self.session.flush()
        return user

    def oidc_user(self, subject: str, email: str | None, name: str | None) -> User:
        """The user of an OIDC sign-in, created on first sign-in without any workspace rights.

        Matched by the provider's subject only, never by e-mail: linking to an existing
        password account because an e-mail address matches would let whoever controls that
        address at the provider take the account over. The caller checks `is_active`.
        """
        subject = subject.strip()
        if not subject or len(subject) > MAX_SUBJECT_LENGTH:
            raise AccountError(
                f"Die Anmeldung liefert keine gültige Kennung (1–{MAX_SUBJECT_LENGTH} Zeichen)."
            )
        clean_email = _oidc_email(email)
        display_name = _clean_display_name((name or "")[:MAX_DISPLAY_NAME_LENGTH])
        user = self.session.scalar(select(User).where(User.oidc_subject == subject))
        if user is None:
            user = User(
                username=self._free_username(_oidc_username_base(subject, clean_email, name)),
                display_name=display_name,
                email=clean_email,
                password_hash=None,
                oidc_subject=subject,
            )
            self._insert(user)
        else:  # the provider is the source of truth for name and address
            if display_name:
                user.display_name = display_name
            if clean_email:
                user.email = clean_email
        user.last_login_at = datetime.now(UTC)
        self.session.flush()
        return user

    # ------------------------------------------------------------------ helpers

    def _insert(self, user: User) -> None:
        if self.get(user.username) is not None:
            raise AccountError(f"Den Benutzernamen „{user.username}“ gibt es schon.")
        self.session.add(user)
        try:
            self.session.flush()
        except IntegrityError as exc:  # created by someone else in the meantime
            raise AccountError(
                f"Den Benutzernamen „{user.username}“ gibt es schon."
            ) from exc

    def _free_username(self, base: str) -> str:
        candidate, number = base, 1
        while self.get(candidate) is not None:
            number += 1
            suffix = f"-{number}"
            candidate = base[: 120 - len(suffix)] + suffix
        return candidate

    def _dummy_hash(self) -> str:
        key = _parameters_key(self.hasher)
        if key not in _DUMMY_HASHES:
            _DUMMY_HASHES[key] = self.hasher.hash("chatwerkstatt: kein Konto")
        return _DUMMY_HASHES[key]


def _login_kind(user: User) -> LoginKind:
    if user.password_hash:
        return "passwort"
    return "oidc" if user.oidc_subject else "keine"


def _oidc_email(email: str | None) -> str | None:
    try:
        return _clean_email(email)
    except AccountError:  # the provider's data is not ours to reject; keep what is usable
        return None


def _oidc_username_base(subject: str, email: str | None, name: str | None) -> str:
    """A readable username: the e-mail address, else the name, else a hash of the subject."""
    for raw in (email or "", name or ""):
        candidate = re.sub(r"[^a-z0-9._@-]+", ".", _ascii_fold(raw.strip().lower())).strip(".")
        candidate = candidate[:110]
        if USERNAME_RE.match(candidate):
            return candidate
    return "oidc-" + hashlib.sha256(subject.encode("utf-8")).hexdigest()[:12]


def _ascii_fold(text: str) -> str:
    """'jörg.müller' -> 'joerg.mueller', 'rené' -> 'rene'."""
    for umlaut, plain in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        text = text.replace(umlaut, plain)
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char))
