"""A throwaway PostgreSQL server for tests that run the relational store on it.

Skips when the server binaries or the driver are missing; module-scoped, so each test module
gets its own empty server.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest


def _pg_bindir() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(candidates[-1]).parent if candidates else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    """A throwaway PostgreSQL server (unix socket only) in a temp folder; its psycopg URL."""
    bindir = _pg_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries (pg_ctl) not installed")
    pytest.importorskip("psycopg", reason="psycopg (PostgreSQL driver) not installed")
    root = Path(tempfile.mkdtemp(prefix="cw-pg-"))
    prefix: list[str] = []
    if os.geteuid() == 0:  # initdb/postgres refuse to run as root
        runuser = shutil.which("runuser")
        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            user = None
        if user is None or runuser is None:
            shutil.rmtree(root)
            pytest.skip("running as root without a 'postgres' user and runuser to start PostgreSQL")
        os.chown(root, user.pw_uid, user.pw_gid)
        prefix = [runuser, "-u", "postgres", "--"]
    data, port = root / "data", _free_port()

    def run(*args: str) -> None:
        done = subprocess.run([*prefix, *args], capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            log = (root / "server.log").read_text() if (root / "server.log").exists() else ""
            pytest.fail(f"{args[0]} failed: {done.stdout}\n{done.stderr}\n{log}")

    run(str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
        "--no-sync")
    run(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(root / "server.log"), "-w", "-t", "30",
        "-o", f"-p {port} -k {root} -c listen_addresses='' -c fsync=off", "start")
    url = f"postgresql+psycopg://postgres@/postgres?host={root}&port={port}"
    try:
        yield url
    finally:
        from pipelines.store.db import get_engine

        get_engine(url).dispose()
        subprocess.run([*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate",
                        "stop"], capture_output=True, timeout=60)
        shutil.rmtree(root, ignore_errors=True)
