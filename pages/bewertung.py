"""Bewertung: test sets, automatic runs of a bot version, two runs side by side with
regressions, and the leaderboard of versions."""

from __future__ import annotations

from typing import Any, cast

import pandas as pd
import plotly.express as px
import streamlit as st

from apps import ui
from evaluation import human, runs
from evaluation.drafts import generate_drafts
from evaluation.testset import (
    KIND_LABELS,
    STATUSES,
    ItemKind,
    TestItem,
    TestSetError,
    add_items,
    create_testset,
    export_testset,
    import_testset,
    list_testsets,
    stored_items,
    update_item,
)
from pipelines.bots import BotRepository
from pipelines.llm.providers import get_provider

engine = ui.engine()
workspace = ui.workspace()
st.title(ui.t("ev-title"))
st.caption(ui.t("ev-intro"))
can_run = ui.allowed("evaluation.score")

SECTIONS = {"sets": "ev-sec-sets", "runs": "ev-sec-runs", "human": "ev-sec-human",
            "pairs": "ev-sec-pairs", "compare": "ev-sec-compare", "board": "ev-sec-board"}
section = st.radio(ui.t("ev-section"), list(SECTIONS), horizontal=True, key="ev-section",
                   format_func=lambda k: ui.t(SECTIONS[k]), label_visibility="collapsed")
sets = {t.name: t for t in list_testsets(engine, workspace)}
with engine.session() as session:
    repo = BotRepository(session, workspace)
    bots = {b.slug: b.name for b in repo.list()}
    versions = {slug: [v.version for v in repo.versions(slug)] for slug in bots}


def percent(value: Any) -> str:
    return "–" if value is None else f"{100 * float(value):.0f} %"


def run_label(run: runs.RunInfo) -> str:
    label = f" · {run.label}" if run.label else ""
    return (f"Nr. {run.id}: {bots.get(run.bot, run.bot)} v{run.version} · {run.testset}"
            f"{label} · {run.started_at:%d.%m.%Y %H:%M}")


# -- test sets ---------------------------------------------------------------------------------
if section == "sets":
    with st.expander(ui.t("ev-new-set"), icon=":material/add_circle:", expanded=not sets):
        with st.form("ev-new-set-form"):
            name = st.text_input(ui.t("ev-set-name"))
            bot_choice = st.selectbox(ui.t("ev-set-bot"), ["", *bots],
                                      format_func=lambda s: bots.get(s, ui.t("ev-all-bots")))
            upload = st.file_uploader(ui.t("ev-import"), type=["csv", "json", "jsonl"],
                                      help=ui.t("ev-import-help"))
            if st.form_submit_button(ui.t("ev-create"), type="primary", disabled=not can_run):
                try:
                    if upload is not None:
                        report = import_testset(engine, workspace, name.strip() or
                                                upload.name.rsplit(".", 1)[0], upload.name,
                                                upload.getvalue(), bot_slug=bot_choice or None)
                        ui.flash(ui.t("ev-imported", created=report.created,
                                      duplicates=report.duplicates,
                                      problems=len(report.problems)))
                        for problem in report.problems[:20]:
                            st.warning(problem)
                    else:
                        create_testset(engine, workspace, name, bot_choice or None)
                        ui.flash(ui.t("ev-created", name=name.strip()))
                    st.rerun()
                except TestSetError as exc:
                    st.error(str(exc))
    if not sets:
        st.info(ui.t("ev-no-sets"))
        st.stop()
    chosen = ui.remembered_choice(ui.t("ev-set"), list(sets), "ev-set")
    info = sets[chosen]
    st.caption(ui.t("ev-set-counts", active=info.counts["aktiv"], drafts=info.counts["entwurf"],
                    rejected=info.counts["abgelehnt"]))
    with st.expander(ui.t("ev-drafts"), icon=":material/auto_awesome:"):
        st.caption(ui.t("ev-drafts-help"))
        draft_bot = st.selectbox(ui.t("ev-bot"), list(bots), format_func=bots.__getitem__,
                                 index=list(bots).index(info.bot_slug)
                                 if info.bot_slug in bots else 0, key="ev-draft-bot")
        draft_count = st.number_input(ui.t("ev-drafts-count"), 1, 200, 20, key="ev-draft-n")
        if st.button(ui.t("ev-drafts-go"), key="ev-drafts-go", disabled=not can_run or not bots):
            with engine.session() as session:
                llm = BotRepository(session, workspace).get(draft_bot)[0].llm
            provider = get_provider(engine.settings, llm.provider, llm.model, llm.temperature)
            with st.spinner(ui.t("ev-drafts-running")):
                drafted = generate_drafts(engine, workspace, chosen, draft_bot,
                                          int(draft_count), provider)
            ui.flash(ui.t("ev-drafts-made", count=drafted.created,
                          duplicates=drafted.duplicates))
            st.rerun()
    items = stored_items(engine, workspace, chosen)
    frame = pd.DataFrame(items, columns=["item_id", "key", "question", "expected_answer",
                                         "expected_source", "kind", "status"])
    edited = st.data_editor(
        frame, hide_index=True, key=f"ev-items-{chosen}", disabled=["item_id", "key"],
        num_rows="fixed",
        column_config={
            "item_id": None,
            "key": st.column_config.TextColumn(ui.t("ev-col-key"), width="small"),
            "question": st.column_config.TextColumn(ui.t("ev-col-question"), width="large"),
            "expected_answer": st.column_config.TextColumn(ui.t("ev-col-answer")),
            "expected_source": st.column_config.TextColumn(ui.t("ev-col-source")),
            "kind": st.column_config.SelectboxColumn(
                ui.t("ev-col-kind"), options=list(KIND_LABELS), required=True,
                help=" · ".join(f"{k} = {v}" for k, v in KIND_LABELS.items())),
            "status": st.column_config.SelectboxColumn(ui.t("ev-col-status"),
                                                       options=list(STATUSES), required=True),
        })
    if st.button(ui.t("ev-save-items"), disabled=not can_run, key="ev-save-items"):
        changed = 0
        problems = []
        for before, after in zip(items, edited.to_dict("records"), strict=True):
            changes = {k: after[k] for k in ("question", "expected_answer", "expected_source",
                                             "kind", "status") if after[k] != before[k]}
            if changes:
                try:
                    update_item(engine, workspace, chosen, before["item_id"], **changes)
                    changed += 1
                except TestSetError as exc:
                    problems.append(str(exc))
        for problem in problems:
            st.error(problem)
        if not problems:
            ui.flash(ui.t("ev-saved-items", count=changed))
            st.rerun()
    with st.form("ev-add-item", clear_on_submit=True):
        st.markdown(f"**{ui.t('ev-add-item')}**")
        question = st.text_input(ui.t("ev-col-question"))
        expected = st.text_input(ui.t("ev-col-answer"))
        source = st.text_input(ui.t("ev-col-source"))
        kind = st.selectbox(ui.t("ev-col-kind"), list(KIND_LABELS),
                            format_func=KIND_LABELS.__getitem__)
        if st.form_submit_button(ui.t("ev-add"), disabled=not can_run):
            report = add_items(engine, workspace, chosen,
                               [TestItem("", question, expected, source, cast(ItemKind, kind))])
            if report.problems or report.duplicates:
                st.error(report.problems[0] if report.problems else ui.t("ev-duplicate"))
            else:
                ui.flash(ui.t("ev-added"))
                st.rerun()
    columns = st.columns(3)
    for column, fmt in zip(columns, ("jsonl", "json", "csv"), strict=True):
        column.download_button(ui.t("ev-export", fmt=fmt.upper()),
                               export_testset(engine, workspace, chosen, fmt),
                               file_name=f"{chosen}.{fmt}", key=f"ev-export-{fmt}")

# -- runs --------------------------------------------------------------------------------------
if section == "runs":
    if not sets or not bots:
        st.info(ui.t("ev-need-sets"))
        st.stop()
    with st.form("ev-start"):
        left, middle, right = st.columns(3)
        bot = left.selectbox(ui.t("ev-bot"), list(bots), format_func=bots.__getitem__)
        version = middle.selectbox(ui.t("ev-version"), [None, *versions.get(bot, [])],
                                   format_func=lambda v: ui.t("ev-current") if v is None
                                   else str(v))
        testset = right.selectbox(ui.t("ev-set"), list(sets))
        label = st.text_input(ui.t("ev-label"), help=ui.t("ev-label-help"))
        if st.form_submit_button(ui.t("ev-start"), type="primary", disabled=not can_run):
            bar = st.progress(0.0, text=ui.t("ev-running"))

            def progress(done: int, total: int, question: str) -> None:
                bar.progress(done / total, text=f"{done}/{total}: {question[:80]}")

            try:
                started = runs.run_testset(engine, workspace, bot, testset, version=version,
                                           label=label, actor=ui.actor(), progress=progress)
            except (TestSetError, LookupError) as exc:
                st.error(str(exc))
            else:
                st.session_state["ev-run"] = started.id
                ui.flash(ui.t("ev-finished", id=started.id))
                st.rerun()
    all_runs = runs.list_runs(engine, workspace)
    if not all_runs:
        st.info(ui.t("ev-no-runs"))
        st.stop()
    by_id = {r.id: r for r in all_runs}
    preset = st.session_state.get("ev-run")
    run_id = st.selectbox(ui.t("ev-run"), list(by_id), key="ev-run-pick",
                          index=list(by_id).index(preset) if preset in by_id else 0,
                          format_func=lambda i: run_label(by_id[i]))
    run = by_id[run_id]
    summary = run.summary
    mode = ui.t("ev-mode-llm") if run.answer_mode == "llm" else ui.t("ev-mode-extractive")
    st.caption(ui.t("ev-run-caption", items=summary.get("items", 0), mode=mode))
    cards = st.columns(5)
    cards[0].metric(runs.METRIC_LABELS["hit_rate"].replace("(hit@k)",
                                                           f"(hit@{summary.get('k', '')})"),
                    percent(summary.get("hit_rate")))
    cards[1].metric("MRR", "–" if summary.get("mrr") is None else f"{summary['mrr']:.2f}")
    cards[2].metric(runs.METRIC_LABELS["f1"], percent(summary.get("f1")))
    cards[3].metric(runs.METRIC_LABELS["groundedness"], percent(summary.get("groundedness")))
    cards[4].metric(runs.METRIC_LABELS["kind_accuracy"], percent(summary.get("kind_accuracy")))
    more = st.columns(4)
    more[0].metric(runs.METRIC_LABELS["exact_match"], percent(summary.get("exact_match")))
    more[1].metric(runs.METRIC_LABELS["semantic"], percent(summary.get("semantic")))
    more[2].metric(runs.METRIC_LABELS["latency_p50_ms"], summary.get("latency_p50_ms") or "–")
    more[3].metric(runs.METRIC_LABELS["latency_p95_ms"], summary.get("latency_p95_ms") or "–")
    kinds = pd.DataFrame([{"Art": KIND_LABELS.get(k, k), "richtig": v["correct"],
                           "falsch": v["items"] - v["correct"]}
                          for k, v in summary.get("by_kind", {}).items()])
    if not kinds.empty:
        chart = px.bar(kinds, x="Art", y=["richtig", "falsch"], title=ui.t("ev-by-kind"),
                       color_discrete_map={"richtig": "#1a7f37", "falsch": "#b42318"})
        chart.update_layout(legend_title_text="", yaxis_title=ui.t("ev-items"))
        st.plotly_chart(chart, width="stretch")
    results = runs.run_results(engine, workspace, run.id)
    table = pd.DataFrame([{
        ui.t("ev-col-key"): r["item_key"], ui.t("ev-col-question"): r["question"],
        ui.t("ev-col-kind"): KIND_LABELS.get(r["kind"], r["kind"]),
        ui.t("ev-col-mode"): r["mode"],
        ui.t("ev-col-right"): "✓" if r["metrics"].get("kind_correct") else "✗",
        "Rang": r["metrics"].get("rank"), "F1": r["metrics"].get("f1"),
        ui.t("ev-col-grounded"): r["metrics"].get("groundedness"),
        "ms": r["metrics"].get("latency_ms"), ui.t("ev-col-answer-given"): r["answer"],
    } for r in results])
    st.dataframe(table, hide_index=True, width="stretch")

# -- comparison --------------------------------------------------------------------------------
if section == "compare":
    all_runs = [r for r in runs.list_runs(engine, workspace) if r.status == "fertig"]
    if len(all_runs) < 2:
        st.info(ui.t("ev-need-two"))
        st.stop()
    by_id = {r.id: r for r in all_runs}
    left, right = st.columns(2)
    old_id = left.selectbox(ui.t("ev-old"), list(by_id), index=1, key="ev-old",
                            format_func=lambda i: run_label(by_id[i]))
    new_id = right.selectbox(ui.t("ev-new"), list(by_id), index=0, key="ev-new",
                             format_func=lambda i: run_label(by_id[i]))
    rows = runs.compare_runs(engine, workspace, old_id, new_id)
    verdicts = pd.Series([r.verdict for r in rows]).value_counts()
    counts = st.columns(3)
    counts[0].metric(ui.t("ev-worse"), int(verdicts.get("schlechter", 0)))
    counts[1].metric(ui.t("ev-better"), int(verdicts.get("besser", 0)))
    counts[2].metric(ui.t("ev-same"), int(verdicts.get("gleich", 0)))
    keys = ("hit_rate", "mrr", "f1", "groundedness", "kind_accuracy")
    side = pd.DataFrame({
        ui.t("ev-metric"): [runs.METRIC_LABELS[k] for k in keys],
        ui.t("ev-old"): [by_id[old_id].summary.get(k) for k in keys],
        ui.t("ev-new"): [by_id[new_id].summary.get(k) for k in keys]})
    chart = px.bar(side.melt(id_vars=ui.t("ev-metric"), var_name=ui.t("ev-run"),
                             value_name=ui.t("ev-value")),
                   x=ui.t("ev-metric"), y=ui.t("ev-value"), color=ui.t("ev-run"),
                   barmode="group", range_y=[0, 1], title=ui.t("ev-compare-chart"),
                   color_discrete_sequence=["#8c959f", "#0969da"])
    chart.update_layout(xaxis_title="", legend_title_text="")
    st.plotly_chart(chart, width="stretch")
    st.markdown(f"**{ui.t('ev-significance')}**")
    st.caption(ui.t("ev-significance-help"))
    st.dataframe(pd.DataFrame([{
        ui.t("ev-metric"): t.metric, ui.t("ev-items"): t.items,
        ui.t("ev-old"): round(t.old_mean, 3), ui.t("ev-new"): round(t.new_mean, 3),
        ui.t("ev-better"): t.better, ui.t("ev-worse"): t.worse,
        "p": None if t.p_value is None else round(t.p_value, 4), ui.t("ev-reading"): t.verdict,
    } for t in runs.paired_tests(rows)]), hide_index=True, width="stretch")
    only_worse = st.toggle(ui.t("ev-only-worse"), value=True, key="ev-only-worse")
    shown = [r for r in rows if r.verdict == "schlechter" or not only_worse]
    frame = pd.DataFrame([{
        ui.t("ev-verdict"): r.verdict, ui.t("ev-col-key"): r.item_key,
        ui.t("ev-col-question"): r.question, ui.t("ev-why"): "; ".join(r.reasons),
        ui.t("ev-answer-old"): r.old.get("answer"), ui.t("ev-answer-new"): r.new.get("answer"),
    } for r in shown])

    def colour(row: pd.Series) -> list[str]:
        tint = {"schlechter": "background-color: #fde8e8", "besser":
                "background-color: #e6f4ea"}.get(row.iloc[0], "")
        return [tint] * len(row)

    if frame.empty:
        st.success(ui.t("ev-no-regressions"))
    else:
        st.dataframe(frame.style.apply(colour, axis=1), hide_index=True, width="stretch")

# -- leaderboard -------------------------------------------------------------------------------
if section == "board":
    if not sets:
        st.info(ui.t("ev-no-sets"))
        st.stop()
    testset = st.selectbox(ui.t("ev-set"), list(sets), key="ev-board-set")
    board = runs.leaderboard(engine, workspace, testset)
    if not board:
        st.info(ui.t("ev-no-runs"))
        st.stop()
    frame = pd.DataFrame([{
        "Bot": bots.get(r["bot"], r["bot"]), "Version": r["version"], "Lauf": r["run"],
        ui.t("ev-score"): r["score"], **{runs.METRIC_LABELS[k]: r[k] for k in
                                         ("hit_rate", "mrr", "f1", "groundedness",
                                          "kind_accuracy", "latency_p95_ms")},
    } for r in board])
    st.dataframe(frame, hide_index=True, width="stretch")
    chart = px.bar(frame, x=frame["Bot"] + " v" + frame["Version"].astype(str),
                   y=ui.t("ev-score"), title=ui.t("ev-board-chart"), range_y=[0, 1])
    chart.update_layout(xaxis_title="")
    st.plotly_chart(chart, width="stretch")


def evaluator_name() -> str:
    """Who scores: the signed-in user; on a single-user workstation a name typed here, so that
    several people can score in turn for the agreement."""
    user = st.session_state.get("user")
    if isinstance(user, dict) and user.get("username"):
        return str(user["username"])
    return st.text_input(ui.t("ev-who"), value=ui.SINGLE_USER_ACTOR, key="ev-who",
                         help=ui.t("ev-who-help")).strip() or ui.SINGLE_USER_ACTOR


def finished_runs() -> dict[int, runs.RunInfo]:
    return {r.id: r for r in runs.list_runs(engine, workspace) if r.status == "fertig"}


# -- human scoring -----------------------------------------------------------------------------
if section == "human":
    done_runs = finished_runs()
    if not done_runs:
        st.info(ui.t("ev-no-runs"))
        st.stop()
    run_id = st.selectbox(ui.t("ev-run"), list(done_runs), key="ev-human-run",
                          format_func=lambda i: run_label(done_runs[i]))
    me = evaluator_name()
    with st.expander(ui.t("ev-assign"), icon=":material/group:"):
        with st.form("ev-assign-form"):
            people = st.text_input(ui.t("ev-assign-people"), help=ui.t("ev-assign-help"))
            per_answer = st.number_input(ui.t("ev-assign-per"), 1, 10, 2)
            if st.form_submit_button(ui.t("ev-assign-go"), disabled=not can_run):
                try:
                    made = human.assign(engine, workspace, run_id,
                                        [p for p in people.replace(";", ",").split(",")],
                                        int(per_answer))
                    ui.flash(ui.t("ev-assigned", count=made))
                    st.rerun()
                except TestSetError as exc:
                    st.error(str(exc))
    status = human.progress(engine, workspace, run_id)
    if status:
        st.markdown(f"**{ui.t('ev-progress')}**")
        for row in status:
            st.progress(row.done / max(row.assigned, 1),
                        text=f"{row.evaluator}: {row.done} / {row.assigned}")
    mine = human.assignments_for(engine, workspace, run_id, me)
    pool = mine or human.assignments_for(engine, workspace, run_id, me, everything=True)
    open_items = [a for a in pool if not a.done]
    st.caption(ui.t("ev-mine", open=len(open_items), total=len(pool)) if mine
               else ui.t("ev-unassigned"))
    if open_items:
        current = open_items[0]
        st.subheader(ui.t("ev-question", number=current.item_key))
        st.markdown(f"> {current.question}")
        st.markdown(f"**{ui.t('ev-answer')}**")
        st.text(current.answer or "–")
        for source in current.sources:
            st.caption(f"[{source.get('number')}] {source.get('title') or source.get('source')}"
                       f" – {source.get('snippet', '')[:200]}")
        with st.form(f"ev-score-{current.result_id}"):
            given = {key: st.select_slider(f"{label} – {question}", options=list(human.SCALE),
                                           value=3, key=f"ev-{key}-{current.result_id}")
                     for key, (label, question) in human.RUBRIC.items()}
            comment = st.text_area(ui.t("ev-comment"), key=f"ev-comment-{current.result_id}")
            if st.form_submit_button(ui.t("ev-save-score"), type="primary",
                                     disabled=not can_run):
                try:
                    human.save_score(engine, workspace, current.result_id, me,
                                     {k: int(v) for k, v in given.items()}, comment)
                    ui.flash(ui.t("ev-score-saved"))
                    st.rerun()
                except TestSetError as exc:
                    st.error(str(exc))
    else:
        st.success(ui.t("ev-all-scored"))
    st.markdown(f"**{ui.t('ev-agreement')}**")
    table = [{ui.t("ev-dimension"): human.RUBRIC[row.dimension][0],
              ui.t("ev-raters"): row.raters, ui.t("ev-items"): row.items,
              ui.t("ev-statistic"): stat.name,
              ui.t("ev-value"): None if stat.value != stat.value else round(stat.value, 3),
              ui.t("ev-reading"): stat.interpretation}
             for row in human.agreement(engine, workspace, run_id) for stat in row.statistics]
    st.dataframe(pd.DataFrame(table), hide_index=True, width="stretch")
    correlations = human.human_vs_metrics(engine, workspace, run_id)
    st.markdown(f"**{ui.t('ev-vs-metrics')}**")
    st.dataframe(pd.DataFrame([{
        ui.t("ev-metric"): runs.METRIC_LABELS.get(name, name), "n": c.n,
        "Spearman": None if c.spearman != c.spearman else round(c.spearman, 3),
        ui.t("ev-reading"): c.interpretation} for name, c in correlations.items()]),
        hide_index=True, width="stretch")
    st.download_button(ui.t("ev-export-scores"), human.export_scores(engine, workspace, run_id),
                       file_name=f"bewertungen-lauf-{run_id}.csv", key="ev-export-scores")

# -- blind pairwise comparison -----------------------------------------------------------------
if section == "pairs":
    done_runs = finished_runs()
    if len(done_runs) < 2:
        st.info(ui.t("ev-need-two"))
        st.stop()
    left_col, right_col = st.columns(2)
    run_a = left_col.selectbox(ui.t("ev-pair-a"), list(done_runs), index=1, key="ev-pair-a",
                               format_func=lambda i: run_label(done_runs[i]))
    run_b = right_col.selectbox(ui.t("ev-pair-b"), list(done_runs), index=0, key="ev-pair-b",
                                format_func=lambda i: run_label(done_runs[i]))
    me = evaluator_name()
    if run_a == run_b:
        st.warning(ui.t("ev-pair-same"))
        st.stop()
    pair_key = f"ev-pair-{min(run_a, run_b)}-{max(run_a, run_b)}-{me}"
    pair = st.session_state.get(pair_key) or human.next_pair(engine, workspace, run_a, run_b, me)
    st.session_state[pair_key] = pair
    if pair is None:
        st.success(ui.t("ev-pairs-done"))
    else:
        st.caption(ui.t("ev-blind"))
        st.markdown(f"> {pair.question}")
        sides = st.columns(2)
        sides[0].markdown(f"**{ui.t('ev-left')}**")
        sides[0].text(pair.left_answer or "–")
        sides[1].markdown(f"**{ui.t('ev-right')}**")
        sides[1].text(pair.right_answer or "–")
        buttons = st.columns(3)
        for column, choice in zip(buttons, human.CHOICES, strict=True):
            if column.button(ui.t(f"ev-choose-{choice}"), key=f"ev-choose-{choice}",
                             disabled=not can_run, width="stretch"):
                human.save_vote(engine, workspace, pair, me, choice)
                st.session_state[pair_key] = None
                st.rerun()
    summary = human.pairwise_summary(engine, workspace, run_a, run_b)
    if summary["votes"]:
        first, second = done_runs[summary["first_run"]], done_runs[summary["second_run"]]
        st.markdown(ui.t("ev-pair-summary", votes=summary["votes"],
                         first=run_label(first), first_wins=summary["first_wins"],
                         second=run_label(second), second_wins=summary["second_wins"],
                         ties=summary["gleich"], left=percent(summary["left_share"])))
        st.markdown(ui.t("ev-pair-verdict", verdict=summary["verdict"]))
        if summary["left_p_value"] is not None and summary["left_p_value"] < 0.05:
            st.warning(ui.t("ev-pair-bias", left=percent(summary["left_share"])))
        agreement = summary["agreement"]
        st.dataframe(pd.DataFrame([{
            ui.t("ev-raters"): agreement.raters, ui.t("ev-items"): agreement.items,
            ui.t("ev-statistic"): stat.name,
            ui.t("ev-value"): None if stat.value != stat.value else round(stat.value, 3),
            ui.t("ev-reading"): stat.interpretation} for stat in agreement.statistics]),
            hide_index=True, width="stretch")
