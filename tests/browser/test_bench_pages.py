"""`python -m evaluation bench pages` end to end, with few rounds: sample data, a real server,
the system Chromium; the figures are checked for shape and plausibility, not for speed."""

from __future__ import annotations

import pytest

from evaluation import bench_pages
from evaluation.browser import chromium_missing_reason

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def test_every_page_is_measured_cold_by_address_and_by_sidebar() -> None:
    reason = chromium_missing_reason()
    if reason:
        pytest.skip(f"kein echter Browser: {reason}")
    messages: list[str] = []

    payload = bench_pages.run(rounds=2, progress=messages.append)

    assert list(payload["seiten"]) == [p.title for p in bench_pages.PAGES]
    for title, figures in payload["seiten"].items():
        assert figures["kalt_ms"] > 0, title
        assert 0 < figures["aufruf_p50_ms"] <= figures["aufruf_p95_ms"] < 60_000, title
        assert 0 < figures["wechsel_p50_ms"] <= figures["wechsel_p95_ms"] < 60_000, title
    # The first page after the start builds the engine; a warm load does not.
    start = payload["seiten"]["Start"]
    assert start["kalt_ms"] > start["aufruf_p50_ms"]
    slowest = max(max(f["aufruf_p95_ms"], f["wechsel_p95_ms"])
                  for f in payload["seiten"].values())
    assert payload["ziel_2s_erreicht"] is (slowest < 2000)
    assert payload["runden"] == 2
    assert "Kerne" in payload["maschine"] and payload["browser"].startswith("Chromium")
    assert any(m.startswith("Runde 2/2") for m in messages)

    lines = bench_pages.summary(payload)
    assert lines["Bots"].startswith("kalt ") and "Wechsel p50" in lines["Bots"]
    assert lines["ziel_2s_erreicht"] is payload["ziel_2s_erreicht"]
