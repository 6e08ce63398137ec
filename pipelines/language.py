"""Offline language detection (lingua) for questions and documents."""

from __future__ import annotations

from functools import lru_cache

from lingua import Language, LanguageDetector, LanguageDetectorBuilder

# Languages citizens of German towns write in most; restricting the set makes short texts
# far more reliable than detecting among all 75.
SUPPORTED = (
    Language.GERMAN, Language.ENGLISH, Language.TURKISH, Language.ARABIC, Language.RUSSIAN,
    Language.UKRAINIAN, Language.POLISH, Language.ROMANIAN, Language.FRENCH, Language.SPANISH,
    Language.ITALIAN, Language.PERSIAN, Language.DUTCH, Language.CROATIAN, Language.VIETNAMESE,
)
DEFAULT_LANGUAGE = "de"
# lingua spreads confidence over related languages for short questions; the leader must be
# clear: above a floor and well ahead of the runner-up.
MIN_CONFIDENCE = 0.3
MIN_LEAD_FACTOR = 2.0


@lru_cache(maxsize=1)
def _detector() -> LanguageDetector:
    return LanguageDetectorBuilder.from_languages(*SUPPORTED).build()


def detect_language(text: str, default: str = DEFAULT_LANGUAGE) -> str:
    """ISO 639-1 code of `text`; `default` when the text is too short or ambiguous."""
    sample = " ".join(text.split())[:2000]
    if len(sample) < 4:
        return default
    values = _detector().compute_language_confidence_values(sample)
    if not values or values[0].value < MIN_CONFIDENCE:
        return default
    if len(values) > 1 and values[0].value < MIN_LEAD_FACTOR * values[1].value:
        return default
    return values[0].language.iso_code_639_1.name.lower()
