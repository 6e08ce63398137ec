"""The scope gate: is a question one for this bot, for another office, or for nobody here?

A redirect matches when one of its keywords occurs in the question (word stems, compound parts
count: "Rente" finds "Altersrente"), or when the question means nearly the same as one of its
example questions (cosine of the sentence embeddings at or above the bot's threshold). Keywords
decide first and predictably; examples catch rewordings. The bot's own topics only decide
whether a question the documents cannot answer is outside its responsibility altogether.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import numpy as np

from pipelines.bots import Redirect, ScopeSettings
from pipelines.embeddings import Embedder, embed_query
from pipelines.german import STOPWORDS, content_terms, stem, words

ScopeKind = Literal["redirect", "in_scope", "unknown"]


@dataclass(frozen=True)
class ScopeDecision:
    kind: ScopeKind
    redirect: Redirect | None = None
    # What matched: the keyword, or the example question with its similarity.
    matched: str = ""
    similarity: float = 0.0
    # The first of the bot's topics the question touches ("" when none does).
    topic: str = ""

    def explain(self) -> str:
        """One German line for "Warum diese Antwort?"."""
        if self.kind == "redirect" and self.redirect is not None:
            how = (f"Stichwort „{self.matched}“" if not self.similarity else
                   f"ähnlich zur Beispielfrage „{self.matched}“ ({self.similarity:.2f})")
            return f"Verweis an {self.redirect.name}: {how}."
        if self.topic:
            return f"Zuständig: Thema „{self.topic}“."
        return ""


def keyword_terms(keyword: str) -> frozenset[str]:
    """The stems a question must contain for `keyword` to match: the keyword's own words (not
    their compound parts, so "Hundesteuer" does not match every tax)."""
    return frozenset(stem(w.lower()) for w in words(keyword)
                     if w.lower() not in STOPWORDS and len(w) > 1)


def matches_keyword(keyword: str, question_terms: set[str]) -> bool:
    terms = keyword_terms(keyword)
    return bool(terms) and terms <= question_terms


def check_scope(scope: ScopeSettings, question: str, embedder: Embedder | None = None
                ) -> ScopeDecision:
    """Redirect, in scope (touches a topic), or unknown (no topic configured or touched)."""
    terms = content_terms(question)
    topic = next((t for t in scope.topics
                  if any(matches_keyword(part, terms) for part in _topic_words(t))), "")
    for redirect in scope.redirects:
        keyword = next((k for k in redirect.keywords if matches_keyword(k, terms)), None)
        if keyword is not None:
            return ScopeDecision("redirect", redirect, keyword, topic=topic)
    if embedder is not None:
        best: tuple[float, Redirect, str] | None = None
        vector = embed_query(embedder, question)
        for redirect in scope.redirects:
            if not redirect.examples:
                continue
            similarities = _example_vectors(embedder, tuple(redirect.examples)) @ vector
            index = int(np.argmax(similarities))
            if best is None or similarities[index] > best[0]:
                best = (float(similarities[index]), redirect, redirect.examples[index])
        if best is not None and best[0] >= scope.semantic_threshold:
            return ScopeDecision("redirect", best[1], best[2], round(best[0], 4), topic=topic)
    return ScopeDecision("in_scope" if topic else "unknown", topic=topic)


def outside_scope(scope: ScopeSettings, decision: ScopeDecision) -> bool:
    """A question the documents did not answer is outside the bot's responsibility when the
    bot declares topics and the question touches none of them."""
    return bool(scope.topics) and decision.kind == "unknown"


def _topic_words(topic: str) -> list[str]:
    """Each content word of a topic line is a keyword of its own ("Abfall und Sperrmüll")."""
    return [w for w in words(topic) if len(w) > 2 and w.lower() not in STOPWORDS]


@lru_cache(maxsize=256)
def _example_vectors(embedder: Embedder, examples: tuple[str, ...]) -> np.ndarray:
    vectors = embedder.embed(list(examples))
    vectors.setflags(write=False)
    return vectors
