"""The workspace as a real server in a subprocess, and a headless Chromium to look at it.

Shared by the page-load benchmark (evaluation/bench_pages.py) and the browser tests
(tests/browser/); the public-chat load benchmark (evaluation/bench_public_chat.py) starts its
server with `ServerProcess` too. The workspace runs exactly as `make run` starts it (`streamlit
run apps/workspace.py`); Chromium is the system package (apt `chromium`) driven through the
Python `playwright` client, never a browser that playwright downloads itself.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING, Self

import httpx

from pipelines.settings import REPO_ROOT

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Playwright

CHROMIUM = Path("/usr/bin/chromium")
# Flags for a root user in a container without GPU; the rest keep Chromium from phoning home
# (component updates, sync, field trials) on an offline machine.
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)

# Streamlit marks its root element with the state of the script run and of the websocket;
# elements of the previous run stay on screen, marked stale, until the new run replaces them.
_IDLE_JS = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    return !!app && app.dataset.testScriptState === 'notRunning'
        && app.dataset.testConnectionState === 'CONNECTED'
        && !document.querySelector('[data-stale="true"]');
}"""


class ServerStartError(RuntimeError):
    pass


def free_port() -> int:
    """A TCP port on loopback that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def closed_port_url() -> str:
    """An http URL on loopback where nothing listens: an LLM there fails at once."""
    return f"http://127.0.0.1:{free_port()}"


def engine_env(data_dir: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for a workspace subprocess: this one without any CHATWERKSTATT_ setting
    of the caller, on `data_dir`, with an Ollama address where nothing answers (so answers
    come in extractive mode) unless `extra` says otherwise."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATWERKSTATT_")}
    env.update(
        PYTHONPATH=str(REPO_ROOT),
        CHATWERKSTATT_DATA_DIR=str(data_dir),
        CHATWERKSTATT_LLM_PROVIDER="ollama",
        CHATWERKSTATT_OLLAMA_HOST=closed_port_url(),
        CHATWERKSTATT_LLM_PROBE_TIMEOUT="0.5",
    )
    env.update(extra or {})
    return env


class ServerProcess:
    """A server in a subprocess on a free loopback port until the context ends.

    Subclasses say how it starts (`command()`, with `self.port` set) and where it reports that
    it is ready (`health_path`, `is_healthy`). The server's output goes to `log_path` (shown
    when the start fails); `cwd` is where it looks for `.env` and similar local settings.
    """

    # Who fails to start, for the error message.
    name = "Der Server"
    health_path = "/health"
    start_timeout = 120.0

    def __init__(self, log_path: Path, env: Mapping[str, str], cwd: Path = REPO_ROOT) -> None:
        self.log_path = log_path
        self.cwd = cwd
        self.env = dict(env)
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        raise NotImplementedError

    def is_healthy(self, response: httpx.Response) -> bool:
        return response.status_code == 200

    def start(self) -> Self:
        # Another process may take the port between free_port() and the server's bind:
        # then the server exits at once and the next port is tried.
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.log_path.write_bytes(b"")
        for _attempt in range(3):
            self.port = free_port()
            self._log = self.log_path.open("ab")
            self._process = subprocess.Popen(self.command(), cwd=self.cwd, env=self.env,
                                             stdout=self._log, stderr=subprocess.STDOUT)
            if self._wait_healthy():
                return self
            self.stop()
            if not self._port_was_taken():
                break
        raise ServerStartError(f"{self.name} startete nicht:\n{self.log_tail()}")

    def _port_was_taken(self) -> bool:
        log = self.log_tail()
        return "already in use" in log or "Cannot find empty port" in log

    def _wait_healthy(self) -> bool:
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self._process is None or self._process.poll() is not None:
                return False
            try:
                if self.is_healthy(httpx.get(f"{self.url}{self.health_path}", timeout=2,
                                             trust_env=False)):
                    return True
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        return False

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=15)
        self._process = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.stop()


class WorkspaceServer(ServerProcess):
    """The workspace as `make run` starts it (`python -m apps.serve`) on a free port until the
    context ends.

    `address` decides the mode as in production: loopback is single-user, `0.0.0.0` needs a
    login. `cwd` is where Streamlit and the settings look for `.streamlit/` and `.env`: tests
    pass an empty folder so that a developer's local settings cannot leak in.
    """

    name = "Der Arbeitsbereich"
    health_path = "/_stcore/health"

    def __init__(self, data_dir: Path, log_path: Path, address: str = "127.0.0.1",
                 env: Mapping[str, str] | None = None, cwd: Path = REPO_ROOT,
                 start_timeout: float = 120.0) -> None:
        super().__init__(log_path, env if env is not None else engine_env(data_dir), cwd)
        self.data_dir = data_dir
        self.address = address
        self.start_timeout = start_timeout

    def command(self) -> list[str]:
        return [sys.executable, "-m", "apps.serve", "--server.address", self.address,
                "--server.port", str(self.port), "--server.headless", "true",
                "--browser.gatherUsageStats", "false"]

    def is_healthy(self, response: httpx.Response) -> bool:
        return response.text == "ok"


def run_cli(args: list[str], env: Mapping[str, str], stdin: str = "", cwd: Path = REPO_ROOT,
            timeout: float = 600.0, module: str = "pipelines"
            ) -> subprocess.CompletedProcess[str]:
    """`python -m MODULE ARGS` in a fresh interpreter; raises with its output on failure."""
    done = subprocess.run([sys.executable, "-m", module, *args], cwd=cwd,
                          env=dict(env), input=stdin, capture_output=True, text=True,
                          timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"python -m {module} {' '.join(args)} endete mit "
                           f"{done.returncode}:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return done


def chromium_missing_reason() -> str | None:
    """Why a real browser cannot run here, or None when it can."""
    if not CHROMIUM.exists():
        return (f"{CHROMIUM} fehlt (Debian-Paket `chromium`; `make browser` installiert es "
                "mit apt-get)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "das Python-Paket `playwright` fehlt (`make setup`)"
    return None


def launch_chromium(playwright: Playwright) -> Browser:
    """The system Chromium, headless."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                      args=list(CHROMIUM_ARGS))


def wait_until_idle(page: Page, timeout_ms: float = 120_000) -> None:
    """Until Streamlit has finished the current script run and no stale element is left.

    A click starts its rerun a moment later, so the check waits one animation frame first;
    callers should also wait for something the action shows (a heading, a message).
    """
    page.wait_for_timeout(50)
    page.wait_for_function(_IDLE_JS, timeout=timeout_ms, polling="raf")
