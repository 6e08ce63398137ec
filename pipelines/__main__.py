"""Command line: python -m pipelines ingest|ask|bots|users|crawl|ckan|faq|refresh|sample|demo-logs|
retention ...

Contract in ARCHITECTURE.md; `users` manages staff accounts (pipelines.accounts).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipelines.settings import REPO_ROOT

if TYPE_CHECKING:
    from pipelines.accounts import UserRepository

SAMPLE_DIR = REPO_ROOT / "data" / "sample"
SAMPLE_CORPUS = SAMPLE_DIR / "musterstadt"
SAMPLE_BOT_FILE = SAMPLE_DIR / "bots" / "musterstadt-buergerservice.yaml"
SAMPLE_CURATED_FILE = SAMPLE_DIR / "curated_answers.csv"


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


def cmd_curated(args: argparse.Namespace) -> int:
    """Curated answers: list them, or import a CSV/XLSX table (Frage;Antwort[;Quelle])."""
    from dataclasses import asdict

    from pipelines.curated import import_curated, list_curated

    engine = _engine()
    workspace = args.workspace or engine.settings.default_workspace
    if args.action == "list":
        answers = list_curated(engine, workspace, args.bot)
        if args.json:
            _print_json([asdict(a) for a in answers])
            return 0
        if not answers:
            print(f"Keine geprüften Antworten im Arbeitsbereich '{workspace}'.")
        for a in answers:
            state = "aktiv" if a.enabled else "aus"
            print(f"{a.id:>5}  {state:<5} {a.hits:>5} Treffer  {a.bot_slug or 'alle Bots':<28} "
                  f"{a.questions[0][:60]}")
        return 0
    if not args.file:
        print("Bitte die Datei angeben: python -m pipelines curated import DATEI.csv",
              file=sys.stderr)
        return 2
    path = Path(args.file)
    try:
        data = path.read_bytes()
    except OSError as exc:
        print(f"{path}: nicht lesbar ({exc.strerror or exc}).", file=sys.stderr)
        return 1
    report = import_curated(engine, workspace, path.name, data, bot_slug=args.bot,
                            actor="Kommandozeile")
    if args.json:
        _print_json(asdict(report))
    else:
        print(f"{report.created} angelegt, {report.skipped} schon vorhanden, "
              f"{len(report.problems)} mit Fehlern.")
        for problem in report.problems:
            print(f"  {problem}", file=sys.stderr)
    return 1 if report.problems else 0


def _read_new_password(from_stdin: bool) -> str:
    """One line from stdin (for scripts), else asked twice without echo."""
    import getpass

    from pipelines.accounts import AccountError

    if from_stdin:
        line = sys.stdin.readline()
        password = line.removesuffix("\n").removesuffix("\r")
        if not password:
            raise AccountError("Auf der Standardeingabe kam kein Passwort an.")
        return password
    try:
        first = getpass.getpass("Neues Passwort: ")
        second = getpass.getpass("Passwort wiederholen: ")
    except (EOFError, KeyboardInterrupt) as exc:
        raise AccountError("Abgebrochen: kein Passwort eingegeben.") from exc
    if first != second:
        raise AccountError("Die beiden Passwörter stimmen nicht überein.")
    return first


def cmd_users(args: argparse.Namespace) -> int:
    from pipelines.accounts import AccountError, UserRepository
    from pipelines.settings import get_settings
    from pipelines.store.db import session_scope

    # The store directly, not Engine: importing the engine loads LanceDB and the German
    # word lists (seconds), which managing accounts does not need.
    settings = get_settings()
    workspace = getattr(args, "users_workspace", None) or args.workspace
    try:
        with session_scope(settings.resolved_database_url) as session:
            repo = UserRepository(session)
            action = args.users_action
            if action == "add":
                _users_add(repo, args, workspace or settings.default_workspace)
            elif action == "list":
                _users_list(repo, workspace, args.json)
            elif action == "set-role":
                workspace = workspace or settings.default_workspace
                repo.grant(args.username, workspace, args.role)
                print(f"„{repo.require(args.username).username}“ hat im Arbeitsbereich "
                      f"„{workspace}“ jetzt die Rolle {_role_label(args.role)}.")
            elif action == "passwd":
                user = repo.require(args.username)
                repo.set_password(user.username, _read_new_password(args.password_stdin))
                print(f"Passwort von „{user.username}“ geändert.")
            elif action == "disable":
                repo.deactivate(args.username)
                print(f"„{repo.require(args.username).username}“ ist gesperrt: keine Anmeldung, "
                      "keine Rechte mehr.")
            elif action == "enable":
                repo.activate(args.username)
                print(f"„{repo.require(args.username).username}“ ist wieder aktiv.")
    except AccountError as exc:
        print(f"Fehler: {exc}", file=sys.stderr)
        return 1
    return 0


def _role_label(role: str) -> str:
    from pipelines.accounts import role_label

    return role_label(role)


def _users_add(repo: UserRepository, args: argparse.Namespace, workspace: str) -> None:
    from pipelines.accounts import (
        AccountError,
        validate_role,
        validate_username,
        validate_workspace_slug,
    )

    # Everything but the password is checked before anybody is asked to type one.
    username = validate_username(args.username)
    validate_role(args.role)
    validate_workspace_slug(workspace)
    if repo.get(username) is not None:
        raise AccountError(f"Den Benutzernamen „{username}“ gibt es schon.")
    password = _read_new_password(args.password_stdin)
    repo.create_user(username, password, display_name=args.name or "", email=args.email)
    repo.grant(username, workspace, args.role)
    print(f"Benutzer „{username}“ angelegt: {_role_label(args.role)} im Arbeitsbereich "
          f"„{workspace}“.")


def _users_list(repo: UserRepository, workspace: str | None, as_json: bool) -> None:
    users = repo.list_users(workspace)
    if as_json:
        _print_json([
            {"username": u.username, "display_name": u.display_name, "email": u.email,
             "active": u.is_active, "login": u.login, "workspaces": u.workspaces,
             "created_at": u.created_at, "last_login_at": u.last_login_at}
            for u in users
        ])
        return
    if not users:
        print("Keine Benutzer" + (f" im Arbeitsbereich „{workspace}“." if workspace else "."))
    for u in users:
        rights = ", ".join(f"{slug}: {_role_label(role)}" for slug, role in u.workspaces.items())
        status = "aktiv" if u.is_active else "gesperrt"
        name = f"  ({u.display_name})" if u.display_name else ""
        print(f"{u.username:<32} {status:<9} {u.login:<9} {rights or 'keine Rechte'}{name}")


def cmd_sample(args: argparse.Namespace) -> int:
    """Import the sample bot and ingest the Musterstadt corpus unless already there."""
    from pipelines.bots import BotRepository
    from pipelines.documents.ingest import Ingestor

    engine = _engine()
    workspace = engine.settings.default_workspace
    with engine.session() as session:
        repo = BotRepository(session, workspace)
        config, version = repo.import_yaml(SAMPLE_BOT_FILE.read_text(encoding="utf-8"),
                                           note="Beispieldaten")
        # The sample bot is public, so the demo host page (/demo/musterstadt) shows it.
        repo.publish(config.slug, version)
    ingestor = Ingestor(engine, workspace, config.effective_knowledge_bases()[0])
    report = ingestor.ingest([SAMPLE_CORPUS], prune=True)
    print(f"Beispiel-Bot '{config.slug}' (Version {version}): {report.count('neu')} neu, "
          f"{report.count('aktualisiert')} aktualisiert, {report.count('unverändert')} "
          f"unverändert, {len(report.failed)} fehlgeschlagen.")
    for r in report.failed:
        print(f"  {r.name}: {r.reason}", file=sys.stderr)
    from pipelines.curated import import_curated, list_curated

    if not list_curated(engine, workspace):
        imported = import_curated(engine, workspace, SAMPLE_CURATED_FILE.name,
                                  SAMPLE_CURATED_FILE.read_bytes(), bot_slug=config.slug,
                                  actor="Beispieldaten")
        print(f"Geprüfte Antworten: {imported.created} angelegt.")
        for problem in imported.problems:
            print(f"  {problem}", file=sys.stderr)
    return 1 if report.failed else 0


def cmd_demo_logs(args: argparse.Namespace) -> int:
    """Synthetic conversations (marked as such) so the analytics page has something to show."""
    from tqdm import tqdm

    from pipelines.demo_logs import generate, has_synthetic_logs

    engine = _engine()
    workspace = args.workspace or engine.settings.default_workspace
    if args.if_empty and has_synthetic_logs(engine, workspace):
        print(f"Arbeitsbereich „{workspace}“ hat schon synthetische Gespräche; nichts erzeugt.")
        return 0
    bars: dict[str, Any] = {}

    def progress(what: str, done: int, total: int) -> None:
        bar = bars.get(what) or bars.setdefault(
            what, tqdm(total=total, desc=what, unit="", file=sys.stderr, disable=args.json))
        bar.update(done - bar.n)

    try:
        summary = generate(engine, workspace, args.bot, days=args.days,
                           conversations_per_day=args.per_day, seed=args.seed,
                           answer_with_bot=not args.no_answers, progress=progress)
    except ValueError as exc:
        print(f"Fehler: {exc}", file=sys.stderr)
        return 1
    finally:
        for bar in bars.values():
            bar.close()
    if args.json:
        _print_json(summary.__dict__)
    else:
        print(summary.describe())
    return 0


def cmd_retention(args: argparse.Namespace) -> int:
    """Delete or anonymise chat logs older than each workspace's retention."""
    from pipelines.retention import apply_retention, set_policy

    engine = _engine()
    if args.days is not None or args.mode is not None or args.reset:
        if not args.workspace:
            print("Fehler: Eine eigene Frist gilt je Arbeitsbereich; bitte --workspace angeben.",
                  file=sys.stderr)
            return 2
        try:
            policy = set_policy(engine, args.workspace, None if args.reset else args.days,
                                None if args.reset else args.mode)
        except ValueError as exc:
            print(f"Fehler: {exc}", file=sys.stderr)
            return 2
        if not args.json:
            print(f"Arbeitsbereich „{args.workspace}“: Chatprotokolle {policy.days} Tage "
                  f"aufbewahren, danach {'löschen' if policy.mode == 'delete' else 'anonymisieren'}"
                  + ("" if policy.own else " (Standard der Installation)") + ".")
    results = apply_retention(engine, args.workspace, dry_run=args.dry_run)
    if args.json:
        _print_json([{"workspace": r.workspace, "days": r.policy.days, "mode": r.policy.mode,
                      "cutoff": r.cutoff, "messages": r.messages,
                      "conversations_deleted": r.conversations, "dry_run": r.dry_run}
                     for r in results])
    else:
        for result in results:
            print(result.describe())
    return 0


def _print_source_report(report: Any, as_json: bool) -> int:
    """A connector's SourceReport as JSON or readable German; exit 2/1/0 (report.exit_code)."""
    if as_json:
        _print_json(report.to_dict())
    else:
        for line in report.lines():
            print(line)
        if report.error:
            print(f"Fehler: {report.error}", file=sys.stderr)
        elif report.failed:
            print("\nFehlgeschlagen:", file=sys.stderr)
            for r in report.failed:
                print(f"  {r.url or r.key}: {r.reason}", file=sys.stderr)
    return int(report.exit_code)


def _connector_progress(args: argparse.Namespace, unit: str) -> tuple[Any, Any]:
    from tqdm import tqdm

    bar = tqdm(total=0, unit=unit, desc="Abrufen", file=sys.stderr,
               disable=args.json or not sys.stderr.isatty())

    def progress(done: int, total: int, result: Any) -> None:
        bar.total = total
        bar.set_postfix_str(f"{result.status}")
        bar.update(done - bar.n)

    return bar, progress


def _run_source(args: argparse.Namespace, engine: Any, workspace: str, kind: str,
                settings_model: Any, values: dict[str, Any], unit: str) -> int:
    """Validate the settings, store the source, run it with a progress bar, print the
    report; exit code 2 for bad settings or a source that cannot be stored."""
    from pydantic import ValidationError

    from pipelines.connectors.sources import SourceError, add_source, run_source

    try:
        settings = settings_model(**values)
    except ValidationError as exc:
        first = exc.errors()[0]
        print(f"Ungültige Angaben: {first['loc'][0] if first['loc'] else ''}: {first['msg']}",
              file=sys.stderr)
        return 2
    bar, progress = _connector_progress(args, unit)
    try:
        source = add_source(engine, workspace, args.bot, kind, settings, args.refresh_hours,
                            create_bot=True)
        report = run_source(engine, workspace, source.id, progress, force=args.force)
    except SourceError as exc:
        print(f"Fehler: {exc}", file=sys.stderr)
        return 2
    finally:
        bar.close()
    return _print_source_report(report, args.json)


def cmd_crawl(args: argparse.Namespace) -> int:
    """Crawl a website (start page or sitemap) into a bot's knowledge base."""
    from pipelines.connectors.website import WebsiteSettings

    engine = _engine()
    workspace = args.workspace or engine.settings.default_workspace
    values: dict[str, Any] = {"start_url": args.url, "prefixes": args.prefix or []}
    for option, key in (("max_pages", "max_pages"), ("max_depth", "max_depth"),
                        ("delay", "delay_seconds"), ("timeout", "timeout_seconds"),
                        ("max_bytes", "max_bytes"), ("user_agent", "user_agent")):
        if getattr(args, option) is not None:
            values[key] = getattr(args, option)
    if args.sitemap:
        values["sitemap"] = True
    return _run_source(args, engine, workspace, "website", WebsiteSettings, values, "Seite")


def cmd_ckan(args: argparse.Namespace) -> int:
    """Read the datasets of a CKAN open-data portal into a bot's knowledge base."""
    from pipelines.connectors.ckan import CkanSettings

    engine = _engine()
    workspace = args.workspace or engine.settings.default_workspace
    values: dict[str, Any] = {"portal_url": args.url, "organization": args.organization or "",
                              "tags": args.tag or []}
    if args.max_datasets is not None:
        values["max_datasets"] = args.max_datasets
    if args.max_resource_bytes is not None:
        values["max_resource_bytes"] = args.max_resource_bytes
    if args.delay is not None:
        values["delay_seconds"] = args.delay
    return _run_source(args, engine, workspace, "ckan", CkanSettings, values, "Datensatz")


def cmd_faq(args: argparse.Namespace) -> int:
    """Import an FAQ list (CSV/XLSX) as curated answers or as a document."""
    from pipelines.connectors.faq import import_faq
    from pipelines.connectors.sources import SourceError

    engine = _engine()
    workspace = args.workspace or engine.settings.default_workspace
    path = Path(args.file)
    try:
        data = path.read_bytes()
    except OSError as exc:
        print(f"{path}: nicht lesbar ({exc.strerror or exc}).", file=sys.stderr)
        return 2
    try:
        report = import_faq(engine, workspace, args.bot, path.name, data, mode=args.mode,
                            question_column=args.question_column or "",
                            answer_column=args.answer_column or "",
                            source_column=args.source_column or "", actor="Kommandozeile",
                            create_bot=True)
    except SourceError as exc:
        print(f"Fehler: {exc}", file=sys.stderr)
        return 2
    return _print_source_report(report, args.json)


def cmd_refresh(args: argparse.Namespace) -> int:
    """Run every source whose refresh interval has passed (for cron / a systemd timer)."""
    from pipelines.connectors.sources import refresh_due

    engine = _engine()
    reports = refresh_due(engine, workspace=args.workspace)
    if args.json:
        _print_json([r.to_dict() for r in reports])
    elif not reports:
        print("Keine Quelle ist fällig.")
    else:
        for report in reports:
            print("\n".join(report.lines()) + "\n")
    return max((r.exit_code for r in reports), default=0)


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

    users = sub.add_parser("users", help="Zugänge der Mitarbeitenden und ihre Rollen verwalten")
    users_sub = users.add_subparsers(dest="users_action", required=True)
    # dest differs from the global --workspace, which the subcommand would otherwise reset.
    workspace_help = "Arbeitsbereich (Standard: aus den Einstellungen)"
    role_help = "admin, editor, analyst, evaluator oder clerk"
    users_add = users_sub.add_parser("add", help="Benutzer mit Passwort anlegen")
    users_add.add_argument("username", metavar="BENUTZERNAME")
    users_add.add_argument("--workspace", dest="users_workspace", metavar="SLUG",
                           help=workspace_help)
    users_add.add_argument("--role", required=True, metavar="ROLLE", help=role_help)
    users_add.add_argument("--name", help="Anzeigename")
    users_add.add_argument("--email")
    users_add.add_argument("--password-stdin", action="store_true",
                           help="Passwort als eine Zeile von der Standardeingabe lesen")
    users_list = users_sub.add_parser("list", help="Benutzer auflisten")
    users_list.add_argument("--workspace", dest="users_workspace", metavar="SLUG",
                            help="nur Mitglieder dieses Arbeitsbereichs")
    users_list.add_argument("--json", action="store_true")
    users_role = users_sub.add_parser("set-role", help="Rolle in einem Arbeitsbereich setzen")
    users_role.add_argument("username", metavar="BENUTZERNAME")
    users_role.add_argument("--workspace", dest="users_workspace", metavar="SLUG",
                            help=workspace_help)
    users_role.add_argument("--role", required=True, metavar="ROLLE", help=role_help)
    users_passwd = users_sub.add_parser("passwd", help="Passwort ändern")
    users_passwd.add_argument("username", metavar="BENUTZERNAME")
    users_passwd.add_argument("--password-stdin", action="store_true",
                              help="Passwort als eine Zeile von der Standardeingabe lesen")
    users_disable = users_sub.add_parser("disable", help="Benutzer sperren")
    users_disable.add_argument("username", metavar="BENUTZERNAME")
    users_enable = users_sub.add_parser("enable", help="gesperrten Benutzer wieder zulassen")
    users_enable.add_argument("username", metavar="BENUTZERNAME")
    users.set_defaults(func=cmd_users)

    curated_cmd = sub.add_parser("curated", help="geprüfte Antworten auflisten oder aus "
                                                 "CSV/XLSX importieren")
    curated_cmd.add_argument("action", choices=["list", "import"])
    curated_cmd.add_argument("file", nargs="?", help="CSV- oder XLSX-Datei (import) mit den "
                             "Spalten Frage, Antwort und optional Quelle")
    curated_cmd.add_argument("--bot", help="nur für diesen Bot (Standard: alle Bots)")
    curated_cmd.add_argument("--json", action="store_true")
    curated_cmd.set_defaults(func=cmd_curated)

    crawl = sub.add_parser("crawl", help="Website (Startseite oder Sitemap) in die "
                                         "Wissensbasis eines Bots einlesen")
    crawl.add_argument("url", help="Startseite oder Sitemap (…/sitemap.xml)")
    crawl.add_argument("--bot", required=True)
    crawl.add_argument("--max-pages", type=int, help="höchstens so viele Abrufe (Standard 200)")
    crawl.add_argument("--max-depth", type=int, help="Klicks von der Startseite (Standard 3)")
    crawl.add_argument("--prefix", action="append", metavar="PFAD",
                       help="nur Seiten unter diesem Pfad (mehrfach möglich)")
    crawl.add_argument("--sitemap", action="store_true", help="URL ist eine Sitemap")
    crawl.add_argument("--delay", type=float, help="Sekunden Pause je Server (Standard 1)")
    crawl.add_argument("--timeout", type=float, help="Sekunden je Abruf (Standard 10)")
    crawl.add_argument("--max-bytes", type=int, help="größte Seite in Byte (Standard 5 MB)")
    crawl.add_argument("--user-agent", help="eigener User-Agent")
    crawl.add_argument("--refresh-hours", type=float,
                       help="alle so viele Stunden neu abrufen (python -m pipelines refresh)")
    crawl.add_argument("--force", action="store_true", help="auch unveränderte neu einlesen")
    crawl.add_argument("--json", action="store_true")
    crawl.set_defaults(func=cmd_crawl)

    ckan = sub.add_parser("ckan", help="Datensätze eines Open-Data-Portals (CKAN) einlesen")
    ckan.add_argument("url", help="Adresse des Portals")
    ckan.add_argument("--bot", required=True)
    ckan.add_argument("--organization", help="nur Datensätze dieser Organisation")
    ckan.add_argument("--tag", action="append", help="nur mit diesem Schlagwort (mehrfach)")
    ckan.add_argument("--max-datasets", type=int)
    ckan.add_argument("--max-resource-bytes", type=int,
                      help="größte CSV/JSON-Tabelle, die geladen wird (Standard 5 MB)")
    ckan.add_argument("--delay", type=float, help="Sekunden Pause zwischen Abrufen")
    ckan.add_argument("--refresh-hours", type=float)
    ckan.add_argument("--force", action="store_true")
    ckan.add_argument("--json", action="store_true")
    ckan.set_defaults(func=cmd_ckan)

    faq = sub.add_parser("faq", help="FAQ-Liste (CSV/XLSX) als geprüfte Antworten oder "
                                     "Dokument einlesen")
    faq.add_argument("file")
    faq.add_argument("--bot", required=True)
    faq.add_argument("--as", dest="mode", choices=["curated", "documents"], default="curated",
                     help="curated = geprüfte Antworten (Standard), documents = Dokument")
    faq.add_argument("--question-column", help="Spalte der Fragen (Name oder Nummer)")
    faq.add_argument("--answer-column", help="Spalte der Antworten (Name oder Nummer)")
    faq.add_argument("--source-column", help="Spalte mit Quelle/URL")
    faq.add_argument("--json", action="store_true")
    faq.set_defaults(func=cmd_faq)

    refresh = sub.add_parser("refresh", help="fällige Quellen (Website, CKAN) neu abrufen – "
                                             "für cron oder einen systemd-Timer")
    refresh.add_argument("--json", action="store_true")
    refresh.set_defaults(func=cmd_refresh)

    sample = sub.add_parser("sample", help="Beispiel-Bot und Musterstadt-Dokumente einrichten")
    sample.set_defaults(func=cmd_sample)

    demo = sub.add_parser("demo-logs", help="synthetische Gespräche für die Analyse-Seite "
                                             "erzeugen (als synthetisch markiert)")
    demo.add_argument("--bot", default="musterstadt-buergerservice")
    demo.add_argument("--days", type=int, default=60, help="so viele Tage bis heute")
    demo.add_argument("--per-day", type=float, default=40.0,
                      help="Gespräche je Werktag im Mittel")
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument("--no-answers", action="store_true",
                      help="Antworten erfinden statt sie vom Bot geben zu lassen (schneller)")
    demo.add_argument("--if-empty", action="store_true",
                      help="nur, wenn der Arbeitsbereich noch keine synthetischen Gespräche hat")
    demo.add_argument("--json", action="store_true")
    demo.set_defaults(func=cmd_demo_logs)

    retention = sub.add_parser("retention", help="alte Chatprotokolle löschen oder "
                                                 "anonymisieren (Aufbewahrungsfrist)")
    retention.add_argument("--days", type=int, help="eigene Frist des Arbeitsbereichs setzen")
    retention.add_argument("--mode", choices=["delete", "anonymise"],
                           help="delete = löschen, anonymise = Texte entfernen, Zahlen behalten")
    retention.add_argument("--reset", action="store_true",
                           help="Frist des Arbeitsbereichs auf den Standard zurücksetzen")
    retention.add_argument("--dry-run", action="store_true", help="nur zählen, nichts ändern")
    retention.add_argument("--json", action="store_true")
    retention.set_defaults(func=cmd_retention)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
