"""The result of one CLI call in a subprocess, shared by the CLI tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipelines.settings import REPO_ROOT


@dataclass
class Run:
    args: list[str]
    returncode: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        try:
            return json.loads(self.stdout)
        except json.JSONDecodeError as exc:  # pragma: no cover - shown when a test fails
            raise AssertionError(f"stdout is not JSON: {self.stdout!r}\n{self.stderr}") from exc


def run_pipelines(data_dir: Path, *args: str, module: str = "pipelines") -> Run:
    """`python -m pipelines ARGS` (or another `module`) in a subprocess on `data_dir`, no
    other CHATWERKSTATT_ setting of this process leaking in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATWERKSTATT_")}
    env.update(CHATWERKSTATT_DATA_DIR=str(data_dir), PYTHONPATH=str(REPO_ROOT))
    done = subprocess.run([sys.executable, "-m", module, *args], env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    return Run(list(args), done.returncode, done.stdout, done.stderr)
