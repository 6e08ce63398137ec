"""Command line: python -m pipelines ingest|ask|bots|sample ...  (contract in ARCHITECTURE.md)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from pipelines.settings import REPO_ROOT

SAMPLE_DIR = REPO_ROOT / "data" / "sample"
SAMPLE_CORPUS = SAMPLE_DIR / "musterstadt"
SAMPLE_BOT_FILE = SAMPLE_DIR / "bots" / "musterstadt-buergerservice.yaml"


def _engine() -> Any:
    from pipelines.engine import Engine

    return Engine()


def _print_json(payload: Any) -> None:
    print(json.dumps(payload, ensure_ascii=False, indent=2, default=str))


def cmd_ingest(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from pipelines.assistant import ensure_bot
    from pipelines.documents.ingest import Ingestor

    engine = _engine()
    workspace = args.workspace or engine.settings.default_workspace
    config, created = ensure_bot(engine, args.bot, workspace)
    if created:
        print(f"Bot '{args.bot}' war neu und wurde mit Standardeinstellungen angelegt.",
              file=sys.stderr)
    knowledge_base = config.effective_knowledge_bases()[0]
    ingestor = Ingestor(engine, workspace, knowledge_base)
    bar = tqdm(total=0, unit="Datei", desc="Einlesen", disable=args.json or not sys.stderr.isatty())

    def progress(done: int, total: int, result: Any) -> None:
        bar.total = total
        bar.set_postfix_str(f"{result.name}: {result.status}")
        bar.update(1)

    report = ingestor.ingest([Path(p) for p in args.paths], progress=progress, force=args.force,
                             prune=args.prune)
    bar.close()
    if args.json:
        _print_json({
            "bot": args.bot,
            "knowledge_base": knowledge_base,
            "seconds": round(report.seconds, 3),
            "embedding_seconds": round(report.embedding_seconds, 3),
            "files": [
                {"path": r.path, "status": r.status, "chunks": r.chunks, "pages": r.pages,
                 "code": r.code, "reason": r.reason, "reason_en": r.reason_en}
                for r in report.results
            ],
        })
    else:
        for r in report.results:
            detail = r.reason if r.failed else f"{r.chunks} Abschnitte"
            print(f"{r.status:>14}  {r.name}  – {detail}")
        print(f"\n{len(report.results)} Dateien: {report.count('neu')} neu, "
              f"{report.count('aktualisiert')} aktualisiert, {report.count('unverändert')} "
              f"unverändert, {report.count('entfernt')} entfernt, {len(report.failed)} "
              f"fehlgeschlagen ({report.seconds:.1f} s).")
        if report.failed:
            print("\nFehlgeschlagen:", file=sys.stderr)
            for r in report.failed:
                print(f"  {r.path}: {r.reason}", file=sys.stderr)
    return 1 if report.failed else 0


def cmd_ask(args: argparse.Namespace) -> int:
    from pipelines.assistant import Assistant
    from pipelines.bots import BotNotFoundError

    engine = _engine()
    try:
        assistant = Assistant(engine, args.bot, args.workspace, version=args.version,
                              channel="cli")
    except (BotNotFoundError, LookupError) as exc:
        print(str(exc), file=sys.stderr)
        return 2
    stream = not args.json and sys.stdout.isatty()
    result = assistant.ask(
        args.question, args.conversation,
        on_delta=(lambda d: print(d, end="", flush=True)) if stream else None,
    )
    if args.json:
        _print_json(result.to_dict())
        return 0
    if not stream:
        print(result.answer)
    print(f"\n\n[{result.mode_label} · Sicherheit {result.confidence:.2f}"
          f"{' · keine gute Antwort' if result.no_answer else ''}]")
    if result.notice:
        print(f"Hinweis: {result.notice}")
    for c in result.citations:
        where = ", ".join(p for p in (c.section, f"S. {c.page}" if c.page else "") if p)
        print(f"  [{c.number}] {c.source}{' – ' + where if where else ''}")
    print(f"Gespräch: {result.conversation_id}")
    return 0


def cmd_bots(args: argparse.Namespace) -> int:
    from pipelines.bots import BotNotFoundError, BotRepository

    engine = _engine()
    workspace = args.workspace or engine.settings.default_workspace
    with engine.session() as session:
        repo = BotRepository(session, workspace)
        if args.action == "list":
            bots = repo.list()
            if args.json:
                _print_json([b.model_dump(mode="json") for b in bots])
            elif not bots:
                print(f"Keine Bots im Arbeitsbereich '{workspace}'.")
            for b in bots if not args.json else []:
                print(f"{b.slug:<32} v{b.version:<4} {b.name}")
            return 0
        if args.action == "export":
            if not args.target:
                print("Bitte den Kurznamen des Bots angeben.", file=sys.stderr)
                return 2
            try:
                text = repo.export_yaml(args.target, args.version)
            except (BotNotFoundError, LookupError) as exc:
                print(str(exc), file=sys.stderr)
                return 2
            if args.output:
                Path(args.output).write_text(text, encoding="utf-8")
            else:
                print(text, end="")
            return 0
        try:
            text = Path(args.target or "").read_text(encoding="utf-8")
            config, version = repo.import_yaml(text)
        except (OSError, ValueError) as exc:
            print(f"Import fehlgeschlagen: {exc}", file=sys.stderr)
            return 1
        print(f"Bot '{config.slug}' als Version {version} gespeichert.")
        return 0


def cmd_sample(args: argparse.Namespace) -> int:
    """Import the sample bot and ingest the Musterstadt corpus unless already there."""
    from pipelines.bots import BotRepository
    from pipelines.documents.ingest import Ingestor

    engine = _engine()
    workspace = engine.settings.default_workspace
    with engine.session() as session:
        config, version = BotRepository(session, workspace).import_yaml(
            SAMPLE_BOT_FILE.read_text(encoding="utf-8"), note="Beispieldaten")
    ingestor = Ingestor(engine, workspace, config.effective_knowledge_bases()[0])
    report = ingestor.ingest([SAMPLE_CORPUS], prune=True)
    print(f"Beispiel-Bot '{config.slug}' (Version {version}): {report.count('neu')} neu, "
          f"{report.count('aktualisiert')} aktualisiert, {report.count('unverändert')} "
          f"unverändert, {len(report.failed)} fehlgeschlagen.")
    for r in report.failed:
        print(f"  {r.name}: {r.reason}", file=sys.stderr)
    return 1 if report.failed else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m pipelines",
                                     description="Chatwerkstatt – Werkzeuge der Kommandozeile")
    parser.add_argument("--workspace", help="Arbeitsbereich (Standard: aus den Einstellungen)")
    sub = parser.add_subparsers(dest="command", required=True)

    ingest = sub.add_parser("ingest", help="Dateien und Ordner in die Wissensbasis eines Bots")
    ingest.add_argument("paths", nargs="+")
    ingest.add_argument("--bot", required=True)
    ingest.add_argument("--force", action="store_true", help="auch unveränderte neu einlesen")
    ingest.add_argument("--prune", action="store_true",
                        help="Dokumente entfernen, deren Datei im Ordner nicht mehr existiert")
    ingest.add_argument("--json", action="store_true")
    ingest.set_defaults(func=cmd_ingest)

    ask = sub.add_parser("ask", help="eine Frage an einen Bot stellen")
    ask.add_argument("question")
    ask.add_argument("--bot", required=True)
    ask.add_argument("--version", type=int)
    ask.add_argument("--conversation", help="Gesprächs-ID für Folgefragen")
    ask.add_argument("--json", action="store_true")
    ask.set_defaults(func=cmd_ask)

    bots = sub.add_parser("bots", help="Bots auflisten, exportieren, importieren")
    bots.add_argument("action", choices=["list", "export", "import"])
    bots.add_argument("target", nargs="?", help="Kurzname (export) oder YAML-Datei (import)")
    bots.add_argument("--version", type=int)
    bots.add_argument("--output", "-o")
    bots.add_argument("--json", action="store_true")
    bots.set_defaults(func=cmd_bots)

    sample = sub.add_parser("sample", help="Beispiel-Bot und Musterstadt-Dokumente einrichten")
    sample.set_defaults(func=cmd_sample)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
