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


def counted_script() -> None:
    import streamlit as st

    from apps import ui

    counts = st.session_state.setdefault("counts", {"a": 0, "b": 0})
    chosen = ui.remembered_choice("Wissensbasis", ["a", "b"], "picked-kb",
                                  format_func=lambda k: f"{k} ({counts[k]} Dok.)")
    st.markdown(f"gewählt: {chosen}")


def test_the_shown_label_follows_a_changed_count() -> None:
    app = AppTest.from_function(counted_script).run()
    app.selectbox[0].select("b").run()
    app.session_state["counts"] = {"a": 0, "b": 1}  # an upload added a document to "b"
    app.run()
    assert app.selectbox[0].value == "b"
    assert app.selectbox[0].format_func("b") == "b (1 Dok.)"
    assert shown(app) == "gewählt: b"
    app.selectbox[0].select("a").run()
    assert shown(app) == "gewählt: a"
