"""Chatwerkstatt workspace (Streamlit). Until the full pages exist: one test-chat page."""

from __future__ import annotations

import streamlit as st

from pipelines.assistant import Assistant
from pipelines.bots import BotRepository
from pipelines.engine import Engine
from pipelines.settings import get_settings

st.set_page_config(page_title="Chatwerkstatt", page_icon="💬", layout="wide")


@st.cache_resource
def get_engine(data_dir: str) -> Engine:
    """One engine per data folder (the folder is the key, so a changed setting is honoured)."""
    return Engine(get_settings())


@st.cache_resource
def get_assistant(data_dir: str, bot_slug: str) -> Assistant:
    return Assistant(get_engine(data_dir), bot_slug, channel="workspace")


DATA_DIR = str(get_settings().data_dir)


def list_bots() -> list[tuple[str, str]]:
    engine = get_engine(DATA_DIR)
    with engine.session() as session:
        repo = BotRepository(session, engine.settings.default_workspace)
        return [(b.slug, b.name) for b in repo.list()]


st.title("Chatwerkstatt – Chat testen")
bots = list_bots()
if not bots:
    st.info("Noch kein Bot vorhanden. `make run` richtet den Beispiel-Bot Musterstadt ein.")
    st.stop()

names = dict(bots)
slug = st.sidebar.selectbox("Bot", list(names), format_func=lambda s: names[s])
if st.sidebar.button("Neues Gespräch"):
    st.session_state.pop("chat", None)
chat = st.session_state.setdefault("chat", {"bot": slug, "conversation": None, "turns": []})
if chat["bot"] != slug:
    chat.update(bot=slug, conversation=None, turns=[])

assistant = get_assistant(DATA_DIR, slug)
with st.chat_message("assistant"):
    st.write(assistant.bot.greeting)


def show_result(result: dict) -> None:
    st.caption(f"{result['mode_label']} · Sicherheit {result['confidence']:.2f}")
    if result["notice"]:
        st.info(result["notice"])
    for c in result["citations"]:
        where = ", ".join(p for p in (c["section"], f"S. {c['page']}" if c["page"] else "") if p)
        with st.expander(f"[{c['number']}] {c['source']}" + (f" – {where}" if where else "")):
            st.write(c["snippet"])


for turn in chat["turns"]:
    with st.chat_message("user"):
        st.write(turn["question"])
    with st.chat_message("assistant"):
        st.write(turn["answer"])
        show_result(turn)

question = st.chat_input("Ihre Frage an den Bot")
if question:
    with st.chat_message("user"):
        st.write(question)
    with st.chat_message("assistant"):
        placeholder = st.empty()
        shown = ""
        final = None
        for event in assistant.stream(question, chat["conversation"]):
            if event.kind == "delta":
                shown += event.text
                placeholder.markdown(shown)
            elif event.kind == "reset":
                shown = ""
                placeholder.empty()
            elif event.result is not None:
                final = event.result.to_dict()
        assert final is not None
        placeholder.markdown(final["answer"])
        show_result(final)
    chat["conversation"] = final["conversation_id"]
    chat["turns"].append({"question": question, **final})
