"""The result of one CLI call in a subprocess, shared by the CLI tests."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


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
