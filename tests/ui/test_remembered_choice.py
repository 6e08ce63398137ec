"""The remembered select box (Bots, Dokumente): every pick sticks, and a preset from another
page (the bot just created) is shown."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest


def script() -> None:
    import streamlit as st

    from apps import ui

    chosen = ui.remembered_choice("Bot", ["a", "b", "c"], "picked-bot")
    st.markdown(f"gewählt: {chosen}")


def shown(app: AppTest) -> str:
    return app.markdown[0].value


def test_every_pick_sticks_and_a_preset_is_shown() -> None:
    app = AppTest.from_function(script).run()
    assert shown(app) == "gewählt: a"
    for pick in ("b", "c", "a", "c"):
        app.selectbox[0].select(pick).run()
        assert shown(app) == f"gewählt: {pick}"
        app.run()  # a plain rerun keeps it
        assert shown(app) == f"gewählt: {pick}"
    app.session_state["picked-bot"] = "b"  # another page presets the choice
    app.run()
    assert shown(app) == "gewählt: b" and app.selectbox[0].value == "b"
    app.session_state["picked-bot"] = "gelöscht"  # no longer offered: the box keeps its value
    app.run()
    assert shown(app) == "gewählt: b"
