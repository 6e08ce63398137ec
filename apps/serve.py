"""Start the workspace: `python -m apps.serve [streamlit options]` (what `make run` calls),
and beside it the public chat and the Gradio demos when their ports are set (COMPANIONS).

Streamlit runs the app's scripts in the server's own process, so whatever is imported here
before the server starts is imported already when the first page opens: the engine's libraries
(LanceDB, pandas, SQLAlchemy, plotly) cost about 5 s on two cores, which the first visitor
would otherwise wait. The embedding model then loads in the background (apps.ui.warm_up).
"""

from __future__ import annotations

import os
import subprocess
import sys

import pipelines  # noqa: F401  (offline defaults before any model library loads)
from pipelines.settings import REPO_ROOT

APP = REPO_ROOT / "apps" / "workspace.py"
# Streamlit draws captions and help texts in the text colour at 60 % opacity: with its default
# #2f2d2b that is #828180 on white, a contrast of 3.9:1, below the 4.5:1 WCAG AA (and BITV)
# asks for. #111111 gives #707070, 4.9:1. Passed as flags so that it holds wherever the
# workspace starts (a .streamlit/config.toml is only read from the working folder).
ACCESSIBLE_THEME = ["--theme.base", "light", "--theme.textColor", "#111111"]


def preload() -> None:
    import threading

    import pandas  # noqa: F401
    import plotly.express  # noqa: F401

    import apps.ui  # streamlit, the engine, LanceDB, SQLAlchemy
    import pipelines.analytics  # noqa: F401
    import pipelines.assistant  # noqa: F401
    import pipelines.documents.ingest  # noqa: F401
    from pipelines.engine import Engine
    from pipelines.settings import get_settings

    engine = Engine(get_settings())
    threading.Thread(target=apps.ui.warm_up, args=(engine,), name="warm-up", daemon=True).start()
    # Websites and portals with a refresh interval are read again when due (sources.py).
    from pipelines.connectors.sources import start_scheduler

    start_scheduler(engine)


# Servers started beside the workspace: environment variable with the port -> module.
COMPANIONS = {
    "CHATWERKSTATT_PUBLIC_PORT": "apps.public_chat",
    "CHATWERKSTATT_PLAIN_DEMO_PORT": "apps.plain_language_demo",
    "CHATWERKSTATT_VOICE_DEMO_PORT": "apps.voice_demo",
    "CHATWERKSTATT_MINUTES_DEMO_PORT": "apps.minutes_demo",
}


def start_companions(argv: list[str]) -> list[subprocess.Popen[bytes]]:
    """The public chat (apps/public_chat.py) and the Gradio demos beside the workspace, on the
    same address, each on the port its variable in COMPANIONS names (unset: not started)."""
    address = "127.0.0.1"
    if "--server.address" in argv:
        address = argv[argv.index("--server.address") + 1]
    return [subprocess.Popen([sys.executable, "-m", module, "--host", address, "--port", port])
            for variable, module in COMPANIONS.items()
            if (port := os.environ.get(variable))]


def main(argv: list[str]) -> int:
    from streamlit.web import cli

    companions = start_companions(argv)
    preload()
    sys.argv = ["streamlit", "run", str(APP), *ACCESSIBLE_THEME, *argv]
    try:
        cli.main()
    except SystemExit as exit_:
        return int(exit_.code or 0)
    finally:
        for process in companions:
            process.terminate()
        for process in companions:
            process.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
