"""The public chat's rules without a server: escaping, limits, colours, origins, logos."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from pipelines.bots import BotConfig, BotConfigError, PublicSettings, contrast_ratio, parse_bot_yaml
from pipelines.public import (
    PublicBot,
    PublicChatError,
    RateLimiter,
    TurnGate,
    embed_snippets,
    frame_ancestors,
    md_escape,
    safe_url,
    save_logo,
)
from pipelines.settings import Settings


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def bot(**public: object) -> PublicBot:
    config = BotConfig(slug="buergerbot", name='Bürger "Bot" <Test>',
                       public=PublicSettings(**public))  # type: ignore[arg-type]
    return PublicBot("musterstadt", "buergerbot", config, 3)


@pytest.mark.parametrize("hostile", [
    '<img src=x onerror="alert(1)">',
    "<script>alert(1)</script>",
    "[klick](javascript:alert(1))",
    "![bild](http://example.org/x.png)",
    '"><svg onload=alert(1)>',
    "**fett** _kursiv_ `code` # Titel",
])
def test_markdown_escape_leaves_no_tag_link_or_markup(hostile: str) -> None:
    escaped = md_escape(hostile)

    assert "<" not in escaped and ">" not in escaped.replace("&gt;", "")
    assert "](" not in escaped
    for char in "*_`#[]()!":
        assert all(escaped[i - 1] == "\\" for i, c in enumerate(escaped) if c == char)


def test_safe_url_only_lets_plain_web_addresses_through() -> None:
    assert safe_url("https://www.musterstadt.de/sperrmuell") == \
        "https://www.musterstadt.de/sperrmuell"
    for bad in ("javascript:alert(1)", "data:text/html,<b>", "//evil.example",
                "https://x.de/a b", 'https://x.de/"onmouseover=', "ftp://x.de"):
        assert safe_url(bad) == "", bad


def test_contrast_ratio_matches_the_wcag_reference_values() -> None:
    # Reference values from the WCAG 2.1 definition: black on white 21:1, #767676 on white
    # is the classic 4.54:1 threshold grey.
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast_ratio("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)
    assert contrast_ratio("#ffffff", "#ffffff") == pytest.approx(1.0)


def test_town_colour_must_carry_white_text() -> None:
    assert PublicSettings(colour="#005A9C").colour == "#005a9c"
    with pytest.raises(ValueError, match=r"Kontrast von 1\.\d : 1"):
        PublicSettings(colour="#ffcc00")
    with pytest.raises(ValueError, match="#RRGGBB"):
        PublicSettings(colour="blue")


def test_yaml_with_a_bad_public_section_names_the_fields() -> None:
    text = ("kind: chatwerkstatt/bot\nbot:\n  slug: b\n  name: B\n  public:\n"
            "    allowed_origins: ['https://www.musterstadt.de/pfad']\n"
            "    suggested_questions: [a, b, c, d, e, f, g]\n"
            "    privacy_url: 'javascript:alert(1)'\n")
    with pytest.raises(BotConfigError) as caught:
        parse_bot_yaml(text)
    problems = "\n".join(caught.value.problems)
    assert "public.allowed_origins" in problems and "ohne Pfad" in problems
    assert "public.suggested_questions" in problems and "Höchstens 6" in problems
    assert "public.privacy_url" in problems


def test_embed_snippets_escape_the_name_and_use_the_base_url() -> None:
    snippets = embed_snippets("https://chat.musterstadt.de/", bot())

    assert 'src="https://chat.musterstadt.de/w/musterstadt/buergerbot/"' in snippets["iframe"]
    assert 'title="Chat: Bürger &quot;Bot&quot; &lt;Test&gt;"' in snippets["iframe"]
    assert snippets["script"].startswith('<script src="https://chat.musterstadt.de/widget.js"')
    assert 'data-color="#005a9c"' in snippets["script"]
    assert "<Test>" not in snippets["script"]


def test_frame_ancestors_lists_only_the_allowed_websites() -> None:
    assert frame_ancestors(bot()) == "frame-ancestors 'self'"
    assert frame_ancestors(bot(allowed_origins=["https://www.musterstadt.de/"])) == \
        "frame-ancestors 'self' https://www.musterstadt.de"


def test_rate_limiter_counts_a_sliding_minute_per_key() -> None:
    clock = Clock()
    limiter = RateLimiter(window=60, clock=clock)

    assert [limiter.wait_seconds("a", 2) for _ in range(2)] == [0, 0]
    clock.now += 20
    assert limiter.wait_seconds("a", 2) == 40
    assert limiter.wait_seconds("b", 2) == 0  # another conversation is not affected
    clock.now += 40
    assert limiter.wait_seconds("a", 2) == 0


def test_turn_gate_refuses_empty_long_and_too_many_questions(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path,  # type: ignore[call-arg]
                        public_max_question_chars=50, public_session_turns_per_minute=2,
                        public_bot_turns_per_minute=3)
    gate = TurnGate(settings, RateLimiter(clock=Clock()))
    target = bot()

    assert gate.admit(target, "c1", "  Was   kostet\nein Pass? ") == "Was kostet ein Pass?"
    with pytest.raises(PublicChatError, match="Bitte geben Sie eine Frage ein"):
        gate.admit(target, "c1", "   ")
    with pytest.raises(PublicChatError, match="51 Zeichen zu lang") as long:
        gate.admit(target, "c1", "x" * 51)
    assert long.value.status == 413
    gate.admit(target, "c1", "zweite Frage")
    with pytest.raises(PublicChatError, match="Bitte warten Sie") as session:
        gate.admit(target, "c1", "dritte Frage")
    assert session.value.status == 429 and session.value.retry_after == 60
    # The bot's limit (3 per minute) counts every conversation together, but not the
    # refused question above.
    assert gate.admit(target, "c2", "Frage aus einem anderen Gespräch")
    with pytest.raises(PublicChatError, match="sehr gefragt") as busy:
        gate.admit(target, "c3", "Noch ein Gespräch")
    assert busy.value.status == 429


def picture(kind: str, size: tuple[int, int] = (800, 400)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (0, 90, 156)).save(buffer, format=kind)
    return buffer.getvalue()


def test_logo_is_stored_small_as_png(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path)  # type: ignore[call-arg]

    path = save_logo(settings, "musterstadt", "buergerbot", "wappen.jpg", picture("JPEG"))

    with Image.open(path) as stored:
        assert stored.format == "PNG"
        assert max(stored.size) == 256 and stored.size[0] == 2 * stored.size[1]


@pytest.mark.parametrize(("name", "data", "reason"), [
    ("leer.png", b"", "ist leer"),
    ("wappen.svg", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
     "kein lesbares Bild"),
    ("kaputt.png", picture("PNG")[:60], "kein lesbares Bild"),
    ("wappen.bmp", picture("BMP", (20, 20)), "kein PNG-, JPEG-, WebP- oder GIF-Bild"),
    ("riesig.png", b"\x89PNG" + b"0" * 1_100_000, "zu groß"),
])
def test_bad_logos_are_refused_by_name_and_the_old_one_stays(
        tmp_path: Path, name: str, data: bytes, reason: str) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path)  # type: ignore[call-arg]
    good = save_logo(settings, "musterstadt", "buergerbot", "gut.png", picture("PNG"))
    before = good.read_bytes()

    with pytest.raises(PublicChatError, match=reason) as caught:
        save_logo(settings, "musterstadt", "buergerbot", name, data)

    assert f"„{name}“" in str(caught.value)
    assert good.read_bytes() == before
