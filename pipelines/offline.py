"""Environment defaults that keep every library offline and quiet.

Set by the code, not by the user: a conference demo must never wait for a hub, a telemetry
endpoint or a model download. Only `setdefault`, so an operator can still override each one.
"""

from __future__ import annotations

import os

OFFLINE_DEFAULTS: dict[str, str] = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "DO_NOT_TRACK": "1",
    "SCARF_NO_ANALYTICS": "true",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
    "ANONYMIZED_TELEMETRY": "False",
    "TOKENIZERS_PARALLELISM": "false",
    "UNSTRUCTURED_DISABLE_NOTICE": "1",
    # torch's OpenMP threads spin after each query embedding and take both cores from the
    # Lance search that follows; a short spin keeps the embedding fast and frees the cores
    # (query embedding + hybrid search at 100k chunks, p95 over three runs: 51 ms by default,
    # 48 ms with OMP_WAIT_POLICY=PASSIVE, 38 ms with this; docs/BENCHMARKS.md).
    "GOMP_SPINCOUNT": "30000",
}

_LOOPBACK = ("127.0.0.1", "localhost", "::1")


def apply_offline_defaults() -> None:
    """Set offline/telemetry defaults and keep loopback traffic away from any HTTP proxy."""
    for key, value in OFFLINE_DEFAULTS.items():
        os.environ.setdefault(key, value)
    for key in ("NO_PROXY", "no_proxy"):
        present = [p.strip() for p in os.environ.get(key, "").split(",") if p.strip()]
        missing = [host for host in _LOOPBACK if host not in present]
        if missing:
            os.environ[key] = ",".join(present + missing)
