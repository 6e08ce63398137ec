"""The public chat server (apps.public_chat.create_app) on a real loopback port, in a thread of
the test process, so a test can look into the same engine the server writes to."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from evaluation.browser import free_port
from pipelines.engine import Engine


@contextmanager
def serve_public_chat(engine: Engine) -> Iterator[str]:
    """Start the public chat on `engine`; yields its base URL; stops it afterwards."""
    import uvicorn

    from apps.public_chat import create_app

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(engine), host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, name="public-chat", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("Der öffentliche Chat ist nicht gestartet.")
        time.sleep(0.2)
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=15)
