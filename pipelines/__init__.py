"""Chatwerkstatt engine: documents in, sourced answers out. Knows no UI library."""

from pipelines.offline import apply_offline_defaults

# Before any submodule imports huggingface, unstructured or gradio: they read these at import.
apply_offline_defaults()

__version__ = "0.1.0"
