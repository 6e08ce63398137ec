"""Offline defaults are set on import (but never override the operator), and the engine
(pipelines/, evaluation/) stays free of UI libraries."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from pipelines.offline import OFFLINE_DEFAULTS
from pipelines.settings import REPO_ROOT

ENGINE_PACKAGES = ("pipelines", "evaluation")
UI_LIBRARIES = ("streamlit", "gradio")
UI_IMPORT_RE = re.compile(rf"^\s*(?:import|from)\s+(?:{'|'.join(UI_LIBRARIES)})\b", re.MULTILINE)


def python(code: str, env: dict[str, str], timeout: float = 120) -> str:
    """Run `code` in a fresh interpreter from the repo root; its stdout."""
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def base_env(**extra: str) -> dict[str, str]:
    """The current environment without any variable the offline module sets, plus `extra`."""
    drop = set(OFFLINE_DEFAULTS) | {"NO_PROXY", "no_proxy"}
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env["PYTHONPATH"] = str(REPO_ROOT)
    env.update(extra)
    return env


def environ_after_import(env: dict[str, str]) -> dict[str, str | None]:
    keys = [*OFFLINE_DEFAULTS, "NO_PROXY", "no_proxy"]
    out = python(
        "import json, os\n"
        "import pipelines\n"
        f"print(json.dumps({{k: os.environ.get(k) for k in {keys!r}}}))\n",
        env,
    )
    return json.loads(out)


def test_import_sets_offline_defaults() -> None:
    after = environ_after_import(base_env())

    assert after["HF_HUB_OFFLINE"] == "1"
    assert after["TRANSFORMERS_OFFLINE"] == "1"
    assert after["DO_NOT_TRACK"] == "1"
    assert after["GRADIO_ANALYTICS_ENABLED"] == "False"
    assert after["STREAMLIT_BROWSER_GATHER_USAGE_STATS"] == "false"
    for key, value in OFFLINE_DEFAULTS.items():
        assert after[key] == value, key


def test_import_keeps_values_the_operator_set() -> None:
    after = environ_after_import(base_env(HF_HUB_OFFLINE="0", DO_NOT_TRACK="0",
                                          GRADIO_ANALYTICS_ENABLED="True"))

    assert after["HF_HUB_OFFLINE"] == "0"
    assert after["DO_NOT_TRACK"] == "0"
    assert after["GRADIO_ANALYTICS_ENABLED"] == "True"
    assert after["TRANSFORMERS_OFFLINE"] == "1"  # the others are still defaulted


def test_loopback_is_appended_to_no_proxy() -> None:
    after = environ_after_import(base_env(NO_PROXY="proxy.example.org,.intern",
                                          HTTPS_PROXY="http://proxy.example.org:3128"))

    no_proxy = (after["NO_PROXY"] or "").split(",")
    assert no_proxy[:2] == ["proxy.example.org", ".intern"]  # kept, in order
    assert "127.0.0.1" in no_proxy and "localhost" in no_proxy
    lower = (after["no_proxy"] or "").split(",")
    assert "127.0.0.1" in lower and "localhost" in lower


def test_no_proxy_entries_are_not_duplicated() -> None:
    after = environ_after_import(base_env(NO_PROXY="localhost,127.0.0.1,::1"))

    assert after["NO_PROXY"] == "localhost,127.0.0.1,::1"


def test_engine_never_imports_ui_libraries() -> None:
    """Import every module of the engine packages; neither UI library may get loaded."""
    code = f"""
import importlib, json, pkgutil, sys
imported, failed = [], {{}}
for package_name in {ENGINE_PACKAGES!r}:
    package = importlib.import_module(package_name)
    imported.append(package_name)
    for info in pkgutil.walk_packages(package.__path__, package_name + "."):
        try:
            importlib.import_module(info.name)
            imported.append(info.name)
        except Exception as exc:
            failed[info.name] = repr(exc)
ui = sorted(m for m in sys.modules if m.split(".")[0] in {UI_LIBRARIES!r})
print(json.dumps({{"imported": imported, "failed": failed, "ui": ui}}))
"""
    result = json.loads(python(code, base_env(), timeout=300).splitlines()[-1])

    assert result["failed"] == {}
    expected = {
        ".".join(path.relative_to(REPO_ROOT).with_suffix("").parts)
        for package in ENGINE_PACKAGES
        for path in (REPO_ROOT / package).rglob("*.py")
        if "migrations" not in path.parts and path.name != "__init__.py"
    }
    assert expected <= set(result["imported"]), expected - set(result["imported"])
    assert result["ui"] == []


def test_no_ui_import_statements_in_engine() -> None:
    offenders = []
    for package in ENGINE_PACKAGES:
        for path in sorted((REPO_ROOT / package).rglob("*.py")):
            text = path.read_text(encoding="utf-8")
            for match in UI_IMPORT_RE.finditer(text):
                offenders.append(f"{path.relative_to(REPO_ROOT)}: {match.group(0).strip()}")
    assert offenders == []


def test_ui_import_pattern_detects_imports() -> None:
    """The static check above would see the usual spellings."""
    for line in ("import streamlit as st", "from gradio import Blocks", "    import gradio",
                 "from streamlit.runtime import exists"):
        assert UI_IMPORT_RE.search(line), line
    for line in ("# Knows no UI library like streamlit", "import streamlit_helpers_extern"):
        assert not UI_IMPORT_RE.search(line), line


def test_engine_packages_exist() -> None:
    for package in ENGINE_PACKAGES:
        assert (Path(REPO_ROOT) / package / "__init__.py").is_file()
