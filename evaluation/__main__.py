"""python -m evaluation run --bot SLUG --testset NAME [--min-hit-rate X ...] [--json];
python -m evaluation testset list|import FILE|export NAME;
python -m evaluation bench retrieval|latency|ingest|privacy|pages|analytics|scope|curated
[--json]
python -m evaluation bench plain-language [--limit N] [--json]   # DEplain: SARI, readability
python -m evaluation bench speech --model PATH|NAME|tiny-random [--rounds N] [--json]
python -m evaluation bench public-chat --users N --seconds S [--think S] [--no-stream]
[--data-dir DIR] [--json]      # exit 1 when a turn failed or not every turn was logged

(contract in ARCHITECTURE.md)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def _print(payload: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(payload, ensure_ascii=False, indent=2))
        return
    for key, value in payload.items():
        if isinstance(value, dict):
            print(f"{key}:")
            for inner_key, inner in value.items():
                print(f"  {inner_key}: {inner}")
        else:
            print(f"{key}: {value}")


def _engine() -> Any:
    from pipelines.engine import Engine

    return Engine()


def cmd_bench(args: argparse.Namespace) -> int:
    say = (lambda m: print(m, file=sys.stderr)) if not args.quiet else None
    if args.kind == "plain-language":
        # Rules and formulas over DEplain sentence pairs; a language model only if one answers.
        from evaluation import bench_plain

        if args.limit is not None and args.limit < 1:
            print("Bitte --limit mit mindestens 1 angeben.", file=sys.stderr)
            return 2
        try:
            payload = bench_plain.run(limit=args.limit, say=say)
        except ValueError as exc:
            print(str(exc), file=sys.stderr)
            return 2
        _print(payload if args.json else bench_plain.summary(payload), args.json)
        return 0
    if args.kind == "privacy":
        # Pure rules over a JSONL corpus: no engine, no model, no data folder.
        from evaluation import privacy

        try:
            payload = privacy.run(Path(args.pii_corpus), say)
        except (OSError, ValueError) as exc:
            print(f"Korpus nicht lesbar: {exc}", file=sys.stderr)
            return 2
        _print(payload if args.json else privacy.summary(payload), args.json)
        return 0
    if args.kind == "pages":
        # A workspace server of its own on the sample data, measured from a real browser.
        from evaluation import bench_pages
        from evaluation.browser import chromium_missing_reason

        missing = chromium_missing_reason()
        if missing:
            print(f"Kein Browser für die Messung: {missing}.", file=sys.stderr)
            return 2
        payload = bench_pages.run(args.rounds or 10, say)
        _print(payload if args.json else bench_pages.summary(payload), args.json)
        return 0
    if args.kind == "public-chat":
        # The public chat as a server of its own, loaded over loopback by simulated citizens.
        from evaluation import bench_public_chat
        from evaluation.browser import ServerStartError

        if args.users < 1 or args.seconds <= 0 or args.think < 0:
            print("Bitte --users ab 1, --seconds über 0 und --think ab 0 angeben.",
                  file=sys.stderr)
            return 2
        try:
            payload = bench_public_chat.run(
                args.users, args.seconds, Path(args.data_dir) if args.data_dir else None,
                args.think, not args.no_stream, say)
        except (ServerStartError, RuntimeError) as exc:
            print(f"Messung nicht möglich: {exc}", file=sys.stderr)
            return 2
        _print(payload if args.json else bench_public_chat.summary(payload), args.json)
        return 0 if bench_public_chat.passed(payload) else 1
    if args.kind == "speech":
        # The speech model alone: no engine, no data folder beyond the settings.
        from evaluation import bench_speech
        from pipelines.settings import get_settings
        from pipelines.speech import SpeechError

        if not args.model:
            print("Bitte --model ORDNER|NAME angeben (oder tiny-random für den Aufwand der "
                  "Pipeline mit einem Zufallsmodell).", file=sys.stderr)
            return 2
        try:
            payload = bench_speech.run(args.model, get_settings(), args.rounds or 3, say)
        except (SpeechError, FileNotFoundError) as exc:
            print(f"Messung nicht möglich: {exc}", file=sys.stderr)
            return 2
        _print(payload if args.json else bench_speech.summary(payload), args.json)
        return 0
    engine = _engine()
    if args.kind == "retrieval":
        from evaluation import bench_retrieval

        if not args.squad:
            print("Bitte --squad DATEI angeben (beliebige Datei im SQuAD-Format).",
                  file=sys.stderr)
            return 2
        weights = [float(w) for w in args.weights.split(",")] if args.weights else []
        try:
            payload = bench_retrieval.run(Path(args.squad), engine.embedder,
                                          engine.settings.fusion_text_weight, weights, say)
        except ValueError as exc:
            print(str(exc), file=sys.stderr)
            return 2
    elif args.kind == "latency":
        from evaluation import bench_latency

        sizes = [int(s) for s in args.sizes.split(",")]
        payload = bench_latency.run(engine.embedder, sizes, args.queries, say)
    elif args.kind == "analytics":
        from evaluation import bench_analytics

        if args.messages < 1:
            print("Bitte --messages mit mindestens 1 angeben.", file=sys.stderr)
            return 2
        payload = bench_analytics.run(engine.settings, args.messages, args.rounds or 5, say)
    elif args.kind == "curated":
        from evaluation import bench_curated
        from pipelines.bots import CuratedSettings

        try:
            payload = bench_curated.run(engine.embedder, Path(args.pairs),
                                        CuratedSettings().threshold, say)
        except (OSError, ValueError) as exc:
            print(f"Paare nicht lesbar: {exc}", file=sys.stderr)
            return 2
    elif args.kind == "scope":
        from evaluation import bench_scope
        from pipelines.bots import BotNotFoundError

        try:
            payload = bench_scope.run(
                engine, Path(args.testset) if args.testset else bench_scope.SAMPLE_TESTSET,
                say=say)
        except BotNotFoundError as exc:
            print(f"{exc} Bitte zuerst `python -m pipelines sample` ausführen.", file=sys.stderr)
            return 2
        _print(payload if args.json else bench_scope.summary(payload), args.json)
        return 0
    else:
        from evaluation import bench_ingest

        payload = bench_ingest.run(engine.settings, Path(args.corpus), say)
    _print(payload, args.json)
    return 0


def cmd_tune(args: argparse.Namespace) -> int:
    from evaluation import tune

    say = (lambda m: print(m, file=sys.stderr)) if not args.quiet else None
    payload = tune.run(
        _engine(), args.bot, Path(args.testset),
        [float(w) for w in args.weights.split(",")],
        [float(t) for t in args.thresholds.split(",")], say,
    )
    _print(payload, args.json)
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """Answer a stored test set with a bot version; exit 1 below the given thresholds."""
    from evaluation.runs import THRESHOLDS, check_thresholds, run_testset
    from evaluation.testset import TestSetError, import_testset, list_testsets

    engine = _engine()
    workspace = args.workspace or engine.settings.default_workspace
    say = (lambda m: print(m, file=sys.stderr)) if not args.quiet else (lambda _m: None)
    name = args.testset
    path = Path(name)
    try:
        if name not in {t.name for t in list_testsets(engine, workspace)} and path.is_file():
            # A file instead of a stored test set: stored under its file name first.
            name = path.stem
            if name not in {t.name for t in list_testsets(engine, workspace)}:
                report = import_testset(engine, workspace, name, path.name, path.read_bytes(),
                                        bot_slug=args.bot)
                say(f"Testsatz „{name}“ aus {path} angelegt: {report.created} Einträge.")
        run = run_testset(engine, workspace, args.bot, name, version=args.version,
                          label=args.label or "", actor="kommandozeile",
                          progress=lambda d, t, q: say(f"[{d}/{t}] {q[:70]}"),
                          llm_judge=not args.no_judge)
    except (TestSetError, LookupError) as exc:
        print(f"Fehler: {exc}", file=sys.stderr)
        return 2
    limits = {key: value for key in THRESHOLDS
              if (value := getattr(args, key)) is not None}
    failures = check_thresholds(run.summary, limits)
    payload = {"run": run.id, "testset": run.testset, "bot": run.bot, "version": run.version,
               "answer_mode": run.answer_mode, "summary": run.summary,
               "thresholds": limits, "failed": failures}
    _print(payload, args.json)
    for failure in failures:
        print(f"Unter der Grenze: {failure}", file=sys.stderr)
    return 1 if failures else 0


def cmd_testset(args: argparse.Namespace) -> int:
    from evaluation.testset import TestSetError, export_testset, import_testset, list_testsets

    engine = _engine()
    workspace = args.workspace or engine.settings.default_workspace
    try:
        if args.action == "list":
            rows = [{"name": t.name, "bot": t.bot_slug, **t.counts}
                    for t in list_testsets(engine, workspace)]
            if args.json:
                print(json.dumps(rows, ensure_ascii=False, indent=2))
            for row in [] if args.json else rows:
                print(f"{row['name']:<32} aktiv {row['aktiv']:>4}  Entwurf {row['entwurf']:>4}"
                      f"  abgelehnt {row['abgelehnt']:>4}  Bot: {row['bot'] or 'alle'}")
            return 0
        if args.action == "import":
            path = Path(args.file)
            name = args.name or path.stem
            if args.if_missing and name in {t.name for t in list_testsets(engine, workspace)}:
                print(f"Testsatz „{name}“ gibt es schon; nichts eingelesen.")
                return 0
            report = import_testset(engine, workspace, name, path.name, path.read_bytes(),
                                    bot_slug=args.bot)
            print(f"Testsatz „{name}“: {report.created} Einträge eingelesen, "
                  f"{report.duplicates} doppelte übersprungen, {len(report.problems)} Fehler.")
            for problem in report.problems:
                print(f"  {problem}", file=sys.stderr)
            return 1 if report.problems else 0
        data = export_testset(engine, workspace, args.file, args.format)
        sys.stdout.buffer.write(data)
        return 0
    except (TestSetError, OSError) as exc:
        print(f"Fehler: {exc}", file=sys.stderr)
        return 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m evaluation",
                                     description="Chatwerkstatt – Messungen")
    sub = parser.add_subparsers(dest="command", required=True)
    bench = sub.add_parser("bench", help="Benchmarks: retrieval, latency, ingest, privacy, "
                                         "pages, analytics, scope, curated, public-chat")
    bench.add_argument("kind", choices=["retrieval", "latency", "ingest", "privacy", "pages",
                                        "analytics", "scope", "curated", "public-chat",
                                        "plain-language", "speech"])
    bench.add_argument("--model", help="Spracherkennung: Modellordner (CTranslate2), Name aus "
                                       "den Einstellungen oder tiny-random (speech)")
    bench.add_argument("--limit", type=int, default=None,
                       help="nur die ersten N Satzpaare (plain-language; Standard: alle)")
    bench.add_argument("--squad", help="SQuAD-Datei (retrieval)")
    bench.add_argument("--weights", help="weitere Volltext-Gewichte zum Vergleich, z. B. 0.6,0.9")
    bench.add_argument("--sizes", default="10000,100000", help="Abschnittszahlen (latency)")
    bench.add_argument("--queries", type=int, default=200, help="Anfragen je Größe (latency)")
    bench.add_argument("--corpus", default="data/sample/musterstadt", help="Ordner (ingest)")
    bench.add_argument("--rounds", type=int, default=None,
                       help="warme Aufrufe je Seite und Weg (pages, Standard 10) oder "
                            "Seitenaufrufe (analytics, Standard 5)")
    bench.add_argument("--messages", type=int, default=1_000_000,
                       help="Nachrichten im Protokoll (analytics)")
    bench.add_argument("--pii-corpus", default="evaluation/data/pii_de.jsonl",
                       help="JSONL-Korpus mit markierten personenbezogenen Daten (privacy)")
    bench.add_argument("--testset", help="Testfragen als JSONL (scope; Standard: Musterstadt)")
    bench.add_argument("--pairs", default="evaluation/data/curated_pairs_de.jsonl",
                       help="JSONL mit Fragepaaren und ob sie dasselbe meinen (curated)")
    bench.add_argument("--users", type=int, default=50,
                       help="gleichzeitige Bürgerinnen und Bürger, je ein Gespräch "
                            "(public-chat, Standard 50)")
    bench.add_argument("--seconds", type=float, default=60.0,
                       help="Dauer der Last in Sekunden (public-chat, Standard 60)")
    bench.add_argument("--think", type=float, default=1.0,
                       help="Lesepause zwischen zwei Fragen in Sekunden (public-chat, "
                            "Standard 1)")
    bench.add_argument("--no-stream", action="store_true",
                       help="Antworten am Stück statt gestreamt abholen (public-chat)")
    bench.add_argument("--data-dir",
                       help="vorhandener Datenordner mit veröffentlichtem Musterstadt-Bot "
                            "(public-chat; Standard: frischer Ordner mit `python -m pipelines "
                            "sample`). Die Gespräche der Messung bleiben dort protokolliert.")
    bench.add_argument("--json", action="store_true")
    bench.add_argument("--quiet", action="store_true", help="keine Fortschrittsmeldungen")
    bench.set_defaults(func=cmd_bench)

    run = sub.add_parser("run", help="Testsatz mit einer Bot-Version beantworten und bewerten")
    run.add_argument("--bot", required=True, help="Kurzname des Bots")
    run.add_argument("--testset", required=True,
                     help="Name eines gespeicherten Testsatzes oder eine Datei (CSV, JSON, "
                          "JSONL, SQuAD), die dann unter ihrem Dateinamen gespeichert wird")
    run.add_argument("--version", type=int, help="Bot-Version (Standard: die aktuelle)")
    run.add_argument("--label", help="Bezeichnung des Laufs, z. B. „nach neuer Satzung“")
    run.add_argument("--workspace", help="Arbeitsbereich (Standard: aus den Einstellungen)")
    run.add_argument("--no-judge", action="store_true",
                     help="kein Sprachmodell als Prüfer der Belegtheit, auch wenn eines antwortet")
    for name, (key, direction) in {
            "min_hit_rate": ("Trefferquote der Quelle (hit@k)", "min"),
            "min_mrr": ("MRR", "min"), "min_f1": ("Token-F1", "min"),
            "min_exact_match": ("exakte Übereinstimmung", "min"),
            "min_semantic": ("Bedeutungsähnlichkeit", "min"),
            "min_groundedness": ("Anteil belegter Sätze", "min"),
            "min_kind_accuracy": ("richtiges Verhalten je Art", "min"),
            "max_p95_ms": ("Antwortzeit p95 in ms", "max")}.items():
        run.add_argument("--" + name.replace("_", "-"), dest=name, type=float,
                         help=f"{'mindestens' if direction == 'min' else 'höchstens'}: {key}; "
                              "darunter endet der Lauf mit Exit-Code 1")
    run.add_argument("--json", action="store_true")
    run.add_argument("--quiet", action="store_true")
    run.set_defaults(func=cmd_run)

    testset = sub.add_parser("testset", help="Testsätze: list | import DATEI | export NAME")
    testset.add_argument("action", choices=["list", "import", "export"])
    testset.add_argument("file", nargs="?", help="Datei (import) oder Name (export)")
    testset.add_argument("--name", help="Name des Testsatzes (import; Standard: Dateiname)")
    testset.add_argument("--bot", help="nur für diesen Bot (import)")
    testset.add_argument("--format", default="jsonl", choices=["jsonl", "json", "csv"])
    testset.add_argument("--if-missing", action="store_true",
                         help="nur einlesen, wenn es den Testsatz noch nicht gibt")
    testset.add_argument("--workspace", help="Arbeitsbereich (Standard: aus den Einstellungen)")
    testset.add_argument("--json", action="store_true")
    testset.set_defaults(func=cmd_testset)

    tune = sub.add_parser("tune", help="Gewichte und Schwellen am Testset eines Bots abstimmen")
    tune.add_argument("--bot", default="musterstadt-buergerservice")
    tune.add_argument("--testset", default="data/sample/musterstadt_testset.jsonl")
    tune.add_argument("--weights", default="0.5,0.6,0.7,0.75,0.8,0.9,1.0")
    tune.add_argument("--thresholds", default="0.3,0.35,0.4,0.45,0.5,0.55,0.6")
    tune.add_argument("--json", action="store_true")
    tune.add_argument("--quiet", action="store_true")
    tune.set_defaults(func=cmd_tune)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
