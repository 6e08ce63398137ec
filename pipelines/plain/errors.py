"""The one error type of the plain-language engine; its message is German, for people."""

from __future__ import annotations


class PlainLanguageError(ValueError):
    """Input that cannot be checked or simplified (empty, too long, unreadable file, bad
    glossary); `str(error)` names the item and the reason in German."""
