"""Measuring the engine: metrics, test sets, benchmarks. Knows no UI library."""

import pipelines  # noqa: F401  (applies the offline environment defaults first)
