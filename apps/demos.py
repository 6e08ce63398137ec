"""What the Gradio demo apps share: the look (readable contrast, visible focus), a German page,
the launch with the command-line options, and the address each demo is reached at.

The demos are thin: every function they show is an engine API (pipelines.plain,
pipelines.speech, pipelines.minutes) that the bots and the workspace pages use as well.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from typing import Any

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402

import pipelines  # noqa: E402,F401  (offline defaults before any model library loads)
from pipelines.llm.providers import LLMProvider, get_provider  # noqa: E402
from pipelines.settings import Settings  # noqa: E402

THEME = gr.themes.Default(primary_hue="blue", font=("system-ui", "Arial", "sans-serif"),
                          font_mono=("ui-monospace", "monospace"))
CSS = """
.gradio-container { --body-text-color-subdued: #4a4a4a; --block-info-text-color: #4a4a4a;
  --input-placeholder-color: #595959; --button-primary-background-fill: #005a9c;
  --button-primary-background-fill-hover: #004b85; --button-primary-text-color: #ffffff; }
*:focus-visible { outline: 3px solid #1b1b1b !important; outline-offset: 2px !important;
  box-shadow: 0 0 0 5px #ffffff !important; }
.cw-notice { border-left: 4px solid #005a9c; padding: 6px 10px; background: #f4f6f8;
  color: #1b1b1b; }
.cw-alert { color: #8a1c1c; font-weight: 600; }
footer { display: none !important; }
"""
# The page is German (screen readers pick the voice by it); status lines are announced.
HEAD = """<script>
document.documentElement.lang = 'de';
new MutationObserver(() => {
  for (const el of document.querySelectorAll('.cw-status')) {
    el.setAttribute('role', 'status'); el.setAttribute('aria-live', 'polite');
  }
}).observe(document.documentElement, {childList: true, subtree: true});
</script>"""

# name -> (module, title, setting with the address, port offset from the workspace's port)
DEMOS: dict[str, tuple[str, str, str, int]] = {
    "einfache-sprache": ("apps.plain_language_demo", "Leichte und Einfache Sprache",
                         "plain_demo_url", 2),
    "spracheingabe": ("apps.voice_demo", "Spracheingabe", "voice_demo_url", 3),
    "protokoll": ("apps.minutes_demo", "Protokoll aus einer Aufnahme", "minutes_demo_url", 4),
}


def llm_if_wanted(settings: Settings, wanted: bool) -> LLMProvider | None:
    """The configured language model when wanted (None when not, or none is configured); the
    engine functions check whether it answers and say so when it does not."""
    return get_provider(settings) if wanted else None


def parse_args(argv: list[str] | None, description: str, port: int) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--host", default="127.0.0.1", help="Adresse (Standard: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=port, help=f"Port (Standard: {port})")
    return parser.parse_args(argv)


def launch(demo: gr.Blocks, host: str, port: int, block: bool = True) -> Any:
    """Start `demo`; with block=False it returns at once (tests, apps.serve)."""
    demo.queue(default_concurrency_limit=2)
    return demo.launch(server_name=host, server_port=port, theme=THEME, css=CSS, head=HEAD,
                       show_error=False, footer_links=[], ssr_mode=False, pwa=False,
                       mcp_server=False, prevent_thread_lock=not block, quiet=True)


def serve(build: Callable[[], gr.Blocks], title: str, port: int,
          argv: list[str] | None = None) -> int:
    """The command of a demo: options, the address printed, the app until Ctrl+C."""
    args = parse_args(argv, f"{title} (Gradio)", port)
    print(f"{title}: http://{args.host}:{args.port}/", flush=True)
    launch(build(), args.host, args.port)
    return 0


def error(message: str) -> gr.Error:
    """A German message in the page's error toast, without Gradio's English title."""
    return gr.Error(message, title="Hinweis", print_exception=False)
