"""Prompt texts live in files (German, versioned with the code), filled with string.Template."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from string import Template

PROMPTS_DIR = Path(__file__).resolve().parent


@lru_cache(maxsize=64)
def _template(name: str, language: str) -> Template:
    path = PROMPTS_DIR / language / f"{name}.md"
    if not path.exists():
        path = PROMPTS_DIR / "de" / f"{name}.md"
    return Template(path.read_text(encoding="utf-8"))


def render_prompt(name: str, language: str = "de", **values: str) -> str:
    """Fill prompt `name`; `$` in values is safe because substitution happens once."""
    return _template(name, language).substitute(**values).strip()
