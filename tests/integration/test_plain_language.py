"""Simplification end to end: the model loop against the stand-in Ollama server, the fallback
to rules when the model is missing or fails, uploads through the real readers, and the
benchmark on DEplain sentence pairs."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from evaluation import bench_plain
from pipelines.llm.providers import LLMProvider, get_provider
from pipelines.plain import (
    MAX_LLM_TEXT_CHARS,
    PlainLanguageError,
    check,
    read_upload,
    simplify,
    simplify_by_rules,
)
from pipelines.settings import REPO_ROOT, Settings
from tests.conftest import closed_port_url
from tests.support import bad_files
from tests.support.fake_llm_server import FakeLLMServer, message_text

SOURCE = ("Der Antrag wird nach Eingang sämtlicher Unterlagen von der zuständigen Behörde "
          "bearbeitet, sodass eine Entscheidung innerhalb der Frist ergehen kann.")
# A first draft that still breaks Leichte Sprache rules: passive and a 20-word sentence.
BAD_DRAFT = ("Ihr Antrag wird von uns bearbeitet, wenn alle Papiere da sind, und dann "
             "bekommen Sie schnell eine Antwort vom Amt.")
WORSE_DRAFT = ("Ihr Antrag wird von uns bearbeitet, wenn alle Papiere da sind, und dann "
               "bekommen Sie eventuell eine Antwort, die gegebenenfalls erteilt werden würde.")
CLEAN_DRAFT = ("Sie haben einen Antrag gestellt. Wir prüfen Ihren Antrag. Dafür brauchen wir "
               "alle Papiere. Dann bekommen Sie schnell eine Antwort.")
DEPLAIN = bench_plain.SENTENCE_FILE


def chat_requests(server: FakeLLMServer) -> list[list[dict[str, Any]]]:
    return [r.body["messages"] for r in server.requests_to("/api/chat")]


@pytest.fixture
def provider(make_settings: Callable[..., Settings], fake_llm: FakeLLMServer) -> LLMProvider:
    found = get_provider(make_settings(ollama_host=fake_llm.url, ollama_model=fake_llm.models[0]))
    assert found is not None
    return found


def scripted(*replies: str) -> Callable[[list[dict[str, Any]], str], str]:
    """A responder that gives `replies` in order and then repeats the last one."""
    calls: list[int] = []

    def respond(messages: list[dict[str, Any]], model: str) -> str:
        calls.append(1)
        return replies[min(len(calls), len(replies)) - 1]

    return respond


# --------------------------------------------------------------------------- the model loop


def test_loop_revises_while_the_checker_finds_violations(
        provider: LLMProvider, fake_llm: FakeLLMServer) -> None:
    assert check(BAD_DRAFT, "leicht").severe  # the stand-in's first draft is not good enough
    assert not check(CLEAN_DRAFT, "leicht").severe
    fake_llm.responder = scripted(BAD_DRAFT, CLEAN_DRAFT)
    seen: list[int] = []

    result = simplify(SOURCE, "leicht", provider, on_round=lambda r: seen.append(r.number))

    assert result.mode == "llm" and result.text == CLEAN_DRAFT
    assert [r.kind for r in result.rounds] == ["generate", "revise"] and seen == [1, 2]
    assert result.rounds[0].severe > 0 and result.rounds[0].counts["passive"] == 1
    assert result.rounds[1].severe == 0 and result.chosen_round == 2
    assert result.findings == result.rounds[1].findings
    assert result.source_findings and result.readability_before and result.readability_after
    assert result.readability_after.flesch_amstad > result.readability_before.flesch_amstad
    first, second = chat_requests(fake_llm)
    assert first[0]["role"] == "system" and "höchstens 15 Wörter" in message_text(first[0])
    assert SOURCE in message_text(first[1])
    revise = message_text(second[1])
    assert BAD_DRAFT in revise and SOURCE in revise
    # The revise prompt carries the checker's findings, not the model's own opinion.
    assert "Gefundene Probleme" in revise and "Passiv: „wird von uns bearbeitet“" in revise
    assert "Satzlänge" in revise
    assert "2 Runden" in result.notice and "Leichte Sprache" in result.notice


def test_loop_stops_after_max_rounds_and_keeps_the_best_round(
        provider: LLMProvider, fake_llm: FakeLLMServer) -> None:
    fake_llm.responder = scripted(BAD_DRAFT, WORSE_DRAFT, WORSE_DRAFT, CLEAN_DRAFT)
    assert len(check(WORSE_DRAFT, "leicht").severe) > len(check(BAD_DRAFT, "leicht").severe)

    result = simplify(SOURCE, "leicht", provider, max_rounds=3)

    assert len(chat_requests(fake_llm)) == 3  # the clean fourth reply is never asked for
    assert [r.number for r in result.rounds] == [1, 2, 3]
    assert all(r.severe > 0 for r in result.rounds)
    assert result.mode == "llm" and result.chosen_round == 1 and result.text == BAD_DRAFT
    assert "Es bleiben" in result.notice and "Gezeigt wird Runde 1" in result.notice

    fake_llm.reset()
    fake_llm.responder = scripted(BAD_DRAFT)
    assert len(simplify(SOURCE, "leicht", provider, max_rounds=1).rounds) == 1
    assert len(chat_requests(fake_llm)) == 1


def test_clean_first_draft_needs_one_round_and_model_chatter_is_removed(
        provider: LLMProvider, fake_llm: FakeLLMServer) -> None:
    fake_llm.responder = scripted(f"Übersetzung in Leichter Sprache:\n```\n{CLEAN_DRAFT}\n```")

    result = simplify(SOURCE, "leicht", provider)

    assert result.text == CLEAN_DRAFT and len(result.rounds) == 1
    assert "1 Runde," in result.notice


def test_einfache_sprache_uses_its_own_rules(
        provider: LLMProvider, fake_llm: FakeLLMServer) -> None:
    fake_llm.responder = scripted(BAD_DRAFT)

    result = simplify(SOURCE, "einfach", provider)

    # 19 words and a passive: fine for Einfache Sprache (passive is only a warning there).
    assert len(result.rounds) == 1 and result.target == "einfach"
    assert "höchstens 20 Wörtern" in message_text(chat_requests(fake_llm)[0][0])


def test_model_failing_mid_way_falls_back_to_rules(
        provider: LLMProvider, fake_llm: FakeLLMServer) -> None:
    def respond(messages: list[dict[str, Any]], model: str) -> str:
        fake_llm.set_faults(fail_status=500, fail_next=1)  # the next call breaks
        return BAD_DRAFT

    fake_llm.responder = respond

    result = simplify(SOURCE, "leicht", provider)

    assert result.mode == "regelbasiert"
    assert result.text == simplify_by_rules(SOURCE, "leicht")[0]
    assert "Runde 2 ausgefallen" in result.notice and "Regelbasierte Vereinfachung" in result.notice
    assert [r.number for r in result.rounds] == [1]  # what the model did stays visible
    assert result.error and result.changes


def test_model_broken_stream_and_empty_answer_fall_back(
        provider: LLMProvider, fake_llm: FakeLLMServer) -> None:
    fake_llm.responder = scripted(BAD_DRAFT)
    fake_llm.set_faults(drop_after_chunks=2)
    dropped = simplify(SOURCE, "einfach", provider)
    assert dropped.mode == "regelbasiert" and "Runde 1 ausgefallen" in dropped.notice

    fake_llm.clear_faults()
    fake_llm.responder = scripted("   ")
    empty = simplify(SOURCE, "einfach", provider)
    assert empty.mode == "regelbasiert" and "leere Antwort" in empty.notice


def test_no_model_or_unreachable_model_means_rules(
        make_settings: Callable[..., Settings]) -> None:
    unreachable = get_provider(make_settings())  # Ollama on a closed port
    assert unreachable is not None

    down = simplify(SOURCE, "leicht", unreachable)
    none = simplify(SOURCE, "einfach", None)

    assert down.mode == none.mode == "regelbasiert"
    assert "nicht erreichbar" in down.notice and "Mediopunkt" in down.notice
    assert "Kein Sprachmodell eingestellt" in none.notice and "Mediopunkt" not in none.notice
    assert none.text == simplify_by_rules(SOURCE, "einfach")[0] != SOURCE
    assert down.counts["sentence_length"] == 0 < down.source_counts["sentence_length"]
    assert len([f for f in down.findings if f.severity == "error"]) < len(
        [f for f in down.source_findings if f.severity == "error"])
    json.dumps(none.to_dict(), ensure_ascii=False)  # serialisable for an API


def test_text_too_long_for_the_model_is_simplified_by_rules(
        provider: LLMProvider, fake_llm: FakeLLMServer) -> None:
    long_text = (SOURCE + " ") * (MAX_LLM_TEXT_CHARS // len(SOURCE) + 1)

    result = simplify(long_text, "einfach", provider)

    assert result.mode == "regelbasiert" and "zu lang" in result.notice
    assert chat_requests(fake_llm) == []


@pytest.mark.parametrize(("text", "target", "rounds", "reason"), [
    ("", "leicht", 3, "leer"),
    (" \n\t ", "leicht", 3, "leer"),
    ("Wort " * 7000, "leicht", 3, "zu lang"),
    ("Ein Satz.", "kompliziert", 3, "Unbekanntes Ziel"),
    ("Ein Satz.", "leicht", 0, "Runden"),
    ("Ein\x00Satz", "leicht", 3, "Binärdaten"),
])
def test_bad_input_is_refused_in_german(text: str, target: str, rounds: int,
                                        reason: str) -> None:
    with pytest.raises(PlainLanguageError, match=reason):
        simplify(text, target, None, max_rounds=rounds)


# --------------------------------------------------------------------------- uploads


def test_upload_txt_in_utf8_and_cp1252(tmp_path: Path) -> None:
    text = "Die Gebühr für den Führerschein beträgt 45 €.\n\nÄnderungen gibt es im Büro."

    assert read_upload("info.txt", text.encode("utf-8")) == text
    assert read_upload("alt.txt", text.encode("cp1252")) == text
    sample = bad_files.latin1_text(tmp_path)
    assert read_upload(sample.path.name, sample.path.read_bytes()) == sample.expected_text.strip()


def test_upload_real_pdf_docx_and_html(tmp_path: Path) -> None:
    import docx

    pdf = bad_files._render_pdf("Der Antrag ist gebührenpflichtig.\n\nBitte zahlen Sie bar.")
    assert "gebührenpflichtig" in read_upload("brief.pdf", pdf)

    document = docx.Document()
    document.add_paragraph("Die Antragstellerin muss unverzüglich zahlen.")
    document.add_paragraph("Der Bescheid kommt per Post.")
    buffer = io.BytesIO()
    document.save(buffer)
    text = read_upload("bescheid.docx", buffer.getvalue())
    assert "Antragstellerin" in text and "\n\n" in text

    html = (b"<html><head><title>T</title><script>alert(1)</script></head><body>"
            b"<p>Die Frist endet am Montag.</p></body></html>")
    assert read_upload("seite.html", html) == "Die Frist endet am Montag."


@pytest.mark.parametrize(("name", "make", "reason"), [
    ("leer.txt", lambda d: b"", "leer"),
    ("daten.txt", lambda d: bad_files.binary_as_txt(d).read_bytes(), "Binärdaten"),
    ("kaputt.pdf", lambda d: bad_files.corrupt_pdf(d).read_bytes(), "PDF"),
    ("programm.exe", lambda d: bad_files.unsupported_extension(d).read_bytes(),
     "nicht unterstützt"),
    ("falsch.docx", lambda d: b"Das ist kein Word-Dokument.", "DOCX"),
    ("leer.md", lambda d: b"   \n\n  ", "kein auslesbarer Text"),
])
def test_bad_uploads_name_the_file_and_the_reason(tmp_path: Path, name: str,
                                                  make: Callable[[Path], bytes],
                                                  reason: str) -> None:
    with pytest.raises(PlainLanguageError, match=reason) as caught:
        read_upload(name, make(tmp_path))
    assert f"„{name}“" in str(caught.value)


def test_upload_size_and_text_limits() -> None:
    with pytest.raises(PlainLanguageError, match="zu groß"):
        read_upload("gross.txt", b"Text. " * 300_000, max_mb=1)
    with pytest.raises(PlainLanguageError, match="Zeichen Text; erlaubt sind höchstens 100"):
        read_upload("lang.txt", ("Ein Satz. " * 20).encode(), max_chars=100)


# --------------------------------------------------------------------------- benchmark


@pytest.mark.skipif(not DEPLAIN.exists(), reason=f"DEplain-Daten fehlen: {DEPLAIN}")
def test_benchmark_on_deplain_without_a_model(make_settings: Callable[..., Settings]) -> None:
    payload = bench_plain.run(limit=30, settings=make_settings())

    assert payload["dataset"]["pairs"] == 30
    identity, offline = payload["identity"], payload["offline"]
    assert 0 < identity["sari"] < 100 and 0 < offline["sari"] < 100
    assert identity["delete"] == 100.0 and identity["changed_sentences"] == 0
    assert offline["changed_sentences"] > 0
    assert payload["reference"]["readability"]["flesch_amstad"] > 0
    assert "sari" not in payload["reference"]
    assert payload["llm"] == {"measured": False, "reason": payload["llm"]["reason"]}
    assert "nicht erreichbar" in payload["llm"]["reason"]
    assert "nicht gemessen" in bench_plain.summary(payload)["Sprachmodell"]


@pytest.mark.skipif(not DEPLAIN.exists(), reason=f"DEplain-Daten fehlen: {DEPLAIN}")
def test_benchmark_measures_the_model_loop_when_one_answers(
        make_settings: Callable[..., Settings], fake_llm: FakeLLMServer) -> None:
    fake_llm.responder = scripted(CLEAN_DRAFT)
    settings = make_settings(ollama_host=fake_llm.url, ollama_model=fake_llm.models[0])

    payload = bench_plain.run(limit=4, llm_limit=2, settings=settings)

    llm = payload["llm"]
    assert llm["measured"] and llm["pairs"] == 2 and llm["rounds_per_text"] == 1.0
    assert llm["fallbacks_to_rules"] == 0 and 0 <= llm["sari"] <= 100
    assert "identity_on_same_pairs" in llm and "offline_on_same_pairs" in llm


def test_benchmark_refuses_an_unusable_file(tmp_path: Path) -> None:
    path = tmp_path / "leer.csv"
    path.write_text("original,simplification\n", encoding="utf-8")
    with pytest.raises(ValueError, match="keine Satzpaare"):
        bench_plain.load_pairs(path)
    with pytest.raises(ValueError, match="nicht lesbar"):
        bench_plain.load_pairs(tmp_path / "fehlt.csv")


def _cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m evaluation ARGS` with Ollama pointed at a closed port (no model answers)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATWERKSTATT_")}
    env.update(CHATWERKSTATT_DATA_DIR=str(data_dir), CHATWERKSTATT_OLLAMA_HOST=closed_port_url(),
               PYTHONPATH=str(REPO_ROOT))
    return subprocess.run([sys.executable, "-m", "evaluation", *args], env=env,
                          capture_output=True, text=True, timeout=300, check=False)


@pytest.mark.slow
@pytest.mark.skipif(not DEPLAIN.exists(), reason=f"DEplain-Daten fehlen: {DEPLAIN}")
def test_cli_bench_plain_language(tmp_path: Path) -> None:
    done = _cli(tmp_path, "bench", "plain-language", "--limit", "10", "--json", "--quiet")

    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert payload["dataset"]["pairs"] == 10 and payload["llm"]["measured"] is False
    text = _cli(tmp_path, "bench", "plain-language", "--limit", "10", "--quiet")
    assert "Identität (Ausgabe = Eingabe): SARI" in text.stdout
    assert "Sprachmodell: nicht gemessen" in text.stdout
    bad = _cli(tmp_path, "bench", "plain-language", "--limit", "0")
    assert bad.returncode == 2 and "--limit" in bad.stderr
