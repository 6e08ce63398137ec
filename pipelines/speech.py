"""Speech to text with faster-whisper: audio in any common format -> Transcript.

    audio = load_audio(data, name="frage.webm", max_seconds=settings.speech_max_question_seconds)
    transcript = transcribe(audio, settings)     # or transcribe_file(data, settings, name=...)

Decoding goes through PyAV (bundled FFmpeg): wav, mp3, ogg, m4a, webm, flac …, any sample
rate, stereo is mixed down, everything becomes mono float32 at 16 kHz. Every problem a user can
cause or meet (empty, corrupt, silent, too long, no model) raises SpeechError with a German
message naming the recording and the reason. Models are only ever read from disk.
"""

from __future__ import annotations

import atexit
import gc
import io
import math
import os
import sys
import threading
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from pipelines.settings import Settings

SAMPLE_RATE = 16_000
# Frames are resampled in groups of this many samples (as faster-whisper does) to bound memory.
_RESAMPLE_GROUP = 500_000
MODEL_FILES = ("model.bin", "config.json", "tokenizer.json")
FALLBACK_TEMPERATURES = [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]

AudioSource = bytes | bytearray | str | os.PathLike[str] | BinaryIO


class SpeechError(ValueError):
    """A recording cannot be transcribed; the message is German and meant for the user."""


class SpeechModelError(SpeechError):
    """The speech model is missing or broken; the message says how to provide one."""


@dataclass(frozen=True)
class Audio:
    """Mono float32 samples at 16 kHz plus what is known about the original."""

    samples: np.ndarray
    name: str
    source_format: str
    source_rate: int
    source_channels: int
    decode_seconds: float

    @property
    def duration(self) -> float:
        return len(self.samples) / SAMPLE_RATE

    @property
    def rms(self) -> float:
        if not len(self.samples):
            return 0.0
        return float(np.sqrt(np.mean(np.square(self.samples, dtype=np.float64))))


@dataclass(frozen=True)
class Segment:
    start: float
    end: float
    text: str


@dataclass(frozen=True)
class Transcript:
    text: str
    language: str
    language_probability: float
    duration: float
    segments: list[Segment]
    name: str = "Aufnahme"
    model: str = ""
    # Stretches the VAD took for speech, in seconds of the original recording.
    speech_regions: list[tuple[float, float]] = field(default_factory=list)
    speech_seconds: float = 0.0
    decode_seconds: float = 0.0
    vad_seconds: float = 0.0
    transcribe_seconds: float = 0.0

    @property
    def total_seconds(self) -> float:
        return self.decode_seconds + self.vad_seconds + self.transcribe_seconds

    @property
    def real_time_factor(self) -> float:
        """Processing time over recording length (0.1 = ten times faster than real time)."""
        return self.total_seconds / self.duration if self.duration else 0.0

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["total_seconds"] = round(self.total_seconds, 4)
        data["real_time_factor"] = round(self.real_time_factor, 4)
        return data


# --------------------------------------------------------------------------- audio


def format_duration(seconds: float) -> str:
    """"1:05:03" or "4:10" (minutes:seconds) for messages."""
    whole = int(round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _source_name(source: AudioSource, name: str | None) -> str:
    if name:
        return Path(name).name or name
    if isinstance(source, str | os.PathLike):
        return Path(source).name
    file_name = getattr(source, "name", None)
    return Path(file_name).name if isinstance(file_name, str) and file_name else "Aufnahme"


def _open_input(source: AudioSource, label: str) -> tuple[Any, int | None]:
    """A path or file object PyAV can open, and its size in bytes where known."""
    if isinstance(source, bytes | bytearray):
        return io.BytesIO(bytes(source)), len(source)
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        if not path.is_file():
            raise SpeechError(f"„{label}“: Datei nicht gefunden.")
        return str(path), path.stat().st_size
    size = None
    try:
        position = source.tell()
        source.seek(0, io.SEEK_END)
        size = source.tell() - position
        source.seek(position)
    except (AttributeError, OSError, ValueError):
        pass
    return source, size


def _declared_seconds(container: Any, stream: Any) -> float | None:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return float(container.duration) / 1_000_000  # av.time_base
    return None


def _too_long(label: str, seconds: float, max_seconds: float) -> SpeechError:
    return SpeechError(
        f"„{label}“ ist {format_duration(seconds)} lang; erlaubt sind höchstens "
        f"{format_duration(max_seconds)} (Minuten:Sekunden). Bitte kürzen oder in Teilen "
        "hochladen."
    )


def load_audio(source: AudioSource, name: str | None = None,
               max_seconds: float | None = None) -> Audio:
    """Decode any audio file PyAV knows into mono float32 at 16 kHz.

    Raises SpeechError for an empty, unreadable or over-long recording; a recording longer
    than `max_seconds` is refused from its header where it declares a length, otherwise while
    decoding (never decoded in full).
    """
    import av

    label = _source_name(source, name)
    started = time.perf_counter()
    handle, size = _open_input(source, label)
    if size == 0:
        raise SpeechError(f"„{label}“ ist leer (0 Bytes).")
    limit = None if max_seconds is None else int(max_seconds * SAMPLE_RATE) + SAMPLE_RATE // 2
    chunks: list[np.ndarray] = []
    total = 0
    try:
        with av.open(handle, mode="r", metadata_errors="ignore") as container:
            if not container.streams.audio:
                raise SpeechError(f"„{label}“ enthält keine Tonspur.")
            stream = container.streams.audio[0]
            declared = _declared_seconds(container, stream)
            if max_seconds is not None and declared is not None and declared > max_seconds + 1:
                raise _too_long(label, declared, max_seconds)
            source_rate = int(stream.rate or 0)
            source_channels = int(stream.channels or 0)
            resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
            for frames in _grouped(_valid_frames(container.decode(stream))):
                for frame in resampler.resample(frames):
                    chunk = frame.to_ndarray().reshape(-1)
                    chunks.append(chunk)
                    total += len(chunk)
                if limit is not None and total > limit:
                    raise _too_long(label, total / SAMPLE_RATE, max_seconds or 0)
            for frame in resampler.resample(None):
                chunk = frame.to_ndarray().reshape(-1)
                chunks.append(chunk)
                total += len(chunk)
            format_name = container.format.name
    except SpeechError:
        raise
    except (av.error.FFmpegError, ValueError, OSError, EOFError) as exc:
        raise SpeechError(
            f"„{label}“ ist keine lesbare Audiodatei (beschädigt oder Format unbekannt: "
            f"{type(exc).__name__})."
        ) from exc
    if not total:
        raise SpeechError(f"„{label}“ enthält keine lesbaren Tondaten.")
    if limit is not None and total > limit:
        raise _too_long(label, total / SAMPLE_RATE, max_seconds or 0)
    samples = np.concatenate(chunks).astype(np.float32, copy=False)
    np.clip(samples, -1.0, 1.0, out=samples)
    return Audio(samples=samples, name=label, source_format=format_name,
                 source_rate=source_rate, source_channels=source_channels,
                 decode_seconds=time.perf_counter() - started)


def _valid_frames(frames: Iterable[Any]) -> Iterable[Any]:
    """Skip frames FFmpeg cannot decode (a damaged stretch) instead of failing the file."""
    import av

    iterator = iter(frames)
    while True:
        try:
            yield next(iterator)
        except StopIteration:
            return
        except av.error.InvalidDataError:
            continue


def _grouped(frames: Iterable[Any]) -> Iterable[Any]:
    """Merge decoded frames into blocks of about _RESAMPLE_GROUP samples for the resampler."""
    import av

    fifo = av.audio.fifo.AudioFifo()
    for frame in frames:
        frame.pts = None  # the FIFO checks timestamps, damaged files have odd ones
        fifo.write(frame)
        if fifo.samples >= _RESAMPLE_GROUP:
            yield fifo.read()
    if fifo.samples > 0:
        yield fifo.read()


# --------------------------------------------------------------------------- model


_HOW_TO_PROVIDE = (
    "So stellen Sie ein Modell bereit: Auf einem Rechner mit Internet ein faster-whisper-Modell "
    "im CTranslate2-Format holen – etwa den Ordner des Hugging-Face-Repositorys "
    "„Systran/faster-whisper-small“ (oder -medium, -large-v3) herunterladen oder ein Whisper-"
    "Modell umwandeln mit `ct2-transformers-converter --model openai/whisper-small "
    "--output_dir whisper --copy_files tokenizer.json preprocessor_config.json --quantization "
    "int8` –, den Ordner auf diesen Server kopieren nach {default_dir} oder die Einstellung "
    "CHATWERKSTATT_SPEECH_MODEL=/pfad/zum/ordner setzen. Der Ordner braucht model.bin, "
    "config.json und tokenizer.json."
)


def default_model_dir(settings: Settings) -> Path:
    return settings.data_dir / "models" / "whisper"


def _looks_like_path(value: str) -> bool:
    return os.sep in value or "/" in value or value.startswith((".", "~"))


def _missing_files(folder: Path) -> list[str]:
    return [name for name in MODEL_FILES if not (folder / name).is_file()]


def resolve_model_path(settings: Settings) -> Path:
    """The model folder for settings.speech_model, from disk only; SpeechModelError otherwise."""
    value = settings.speech_model.strip()
    how = _HOW_TO_PROVIDE.format(default_dir=default_model_dir(settings))
    if not value:
        raise SpeechModelError(f"Kein Spracherkennungsmodell eingestellt. {how}")
    if _looks_like_path(value) or Path(value).is_absolute():
        folder = Path(value).expanduser()
        if not folder.is_dir():
            raise SpeechModelError(
                f"Spracherkennungsmodell nicht gefunden: Ordner „{folder}“ gibt es nicht. {how}")
        missing = _missing_files(folder)
        if missing:
            raise SpeechModelError(
                f"Spracherkennungsmodell in „{folder}“ unvollständig: es fehlt "
                f"{', '.join(missing)}. {how}")
        return folder
    models = settings.data_dir / "models"
    candidates = [models / f"faster-whisper-{value}", models / value, default_model_dir(settings)]
    for folder in candidates:
        if folder.is_dir() and not _missing_files(folder):
            return folder
    cached = _hub_cache_folder(value)
    if cached is not None:
        return cached
    searched = ", ".join(str(c) for c in candidates)
    raise SpeechModelError(
        f"Spracherkennungsmodell „{value}“ ist auf diesem Rechner nicht vorhanden (gesucht in "
        f"{searched} und im lokalen Hugging-Face-Zwischenspeicher; heruntergeladen wird nichts). "
        f"{how}")


def _hub_cache_folder(name: str) -> Path | None:
    """A model already in the local Hugging Face cache; never goes to the network."""
    try:
        from faster_whisper.utils import download_model

        folder = Path(download_model(name, local_files_only=True))
    except Exception:  # unknown name, not cached, hub library errors: simply not there
        return None
    return folder if folder.is_dir() and not _missing_files(folder) else None


_MODELS: dict[tuple[str, str, str, int], Any] = {}
_MODELS_LOCK = threading.Lock()


def load_model(settings: Settings) -> Any:
    """The faster-whisper WhisperModel for these settings, loaded once per process."""
    folder = resolve_model_path(settings)
    key = (str(folder.resolve()), settings.speech_device, settings.speech_compute_type,
           settings.speech_cpu_threads)
    with _MODELS_LOCK:
        if key in _MODELS:
            return _MODELS[key]
        from faster_whisper import WhisperModel

        try:
            model = WhisperModel(str(folder), device=settings.speech_device,
                                 compute_type=settings.speech_compute_type,
                                 cpu_threads=settings.speech_cpu_threads,
                                 local_files_only=True)
        except Exception as exc:  # ctranslate2 raises RuntimeError/ValueError for bad files
            how = _HOW_TO_PROVIDE.format(default_dir=default_model_dir(settings))
            raise SpeechModelError(
                f"Spracherkennungsmodell in „{folder}“ lässt sich nicht laden "
                f"({type(exc).__name__}: {str(exc)[:200]}). Ist der Ordner vollständig kopiert? "
                f"{how}") from exc
        _MODELS[key] = model
        return model


def clear_model_cache() -> None:
    with _MODELS_LOCK:
        _MODELS.clear()


def _free_native_models() -> None:
    """Free the Whisper models and the VAD's onnxruntime session before the interpreter tears
    down: native thread pools still alive then abort the process now and again ("terminate
    called without an active exception", exit code 134)."""
    clear_model_cache()
    vad = sys.modules.get("faster_whisper.vad")
    if vad is not None:
        vad.get_vad_model.cache_clear()
    gc.collect()


atexit.register(_free_native_models)


def model_status(settings: Settings) -> tuple[bool, str]:
    """(ready, German explanation) without loading the model; for the UI's status line."""
    try:
        folder = resolve_model_path(settings)
    except SpeechModelError as exc:
        return False, str(exc)
    return True, f"Spracherkennung bereit: Modell „{settings.speech_model}“ aus {folder}."


# --------------------------------------------------------------------------- transcription


def speech_regions(audio: Audio, settings: Settings) -> list[tuple[int, int]]:
    """Sample ranges the Silero VAD takes for speech (empty list = no speech)."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    options = VadOptions(min_silence_duration_ms=settings.speech_vad_min_silence_ms)
    chunks = get_speech_timestamps(audio.samples, options, sampling_rate=SAMPLE_RATE)
    return [(int(c["start"]), int(c["end"])) for c in chunks]


def check_not_silent(audio: Audio, settings: Settings) -> None:
    if audio.rms < settings.speech_silence_rms:
        raise SpeechError(
            f"„{audio.name}“: keine Sprache erkannt – die Aufnahme ist still "
            f"(Pegel {_dbfs(audio.rms)} dBFS). Ist das Mikrofon eingeschaltet?")


def _dbfs(rms: float) -> str:
    return "-∞" if rms <= 0 else f"{20 * math.log10(rms):.0f}"


def transcribe(audio: Audio, settings: Settings, language: str | None = None) -> Transcript:
    """Transcribe decoded audio; `language` (e.g. "de") fixes the language, else detected.

    Raises SpeechError for silent audio or audio without speech, SpeechModelError when the
    model is missing or broken.
    """
    from faster_whisper.transcribe import restore_speech_timestamps

    check_not_silent(audio, settings)
    model = load_model(settings)
    samples = audio.samples
    regions: list[tuple[int, int]] = [(0, len(samples))]
    vad_chunks: list[dict[str, int]] = []
    vad_seconds = 0.0
    if settings.speech_vad:
        started = time.perf_counter()
        regions = speech_regions(audio, settings)
        vad_seconds = time.perf_counter() - started
        if not regions:
            raise SpeechError(
                f"„{audio.name}“: keine Sprache erkannt (nur Stille oder Geräusche, "
                f"{format_duration(audio.duration)} lang).")
        vad_chunks = [{"start": start, "end": end} for start, end in regions]
        # One concatenation (faster-whisper's collect_chunks grows an array chunk by chunk).
        samples = np.concatenate([samples[start:end] for start, end in regions])
    fixed = language or settings.speech_language or None
    started = time.perf_counter()
    try:
        raw_segments, info = model.transcribe(
            samples, language=fixed, beam_size=settings.speech_beam_size, vad_filter=False,
            condition_on_previous_text=False,
            temperature=FALLBACK_TEMPERATURES if settings.speech_temperature_fallback else 0.0)
        if vad_chunks:
            raw_segments = restore_speech_timestamps(raw_segments, vad_chunks, SAMPLE_RATE)
        segments = _segments(raw_segments, audio.duration)
    except SpeechError:
        raise
    except ValueError as exc:  # e.g. an unknown language code
        raise SpeechError(f"„{audio.name}“: Spracherkennung nicht möglich ({exc}).") from exc
    except RuntimeError as exc:
        raise SpeechModelError(
            f"„{audio.name}“: das Spracherkennungsmodell ist während der Erkennung "
            f"ausgefallen ({str(exc)[:200]}).") from exc
    transcribe_seconds = time.perf_counter() - started
    return Transcript(
        text=" ".join(s.text for s in segments).strip(),
        language=str(info.language),
        language_probability=float(info.language_probability),
        duration=audio.duration,
        segments=segments,
        name=audio.name,
        model=settings.speech_model,
        speech_regions=[(round(a / SAMPLE_RATE, 3), round(b / SAMPLE_RATE, 3))
                        for a, b in regions],
        speech_seconds=len(samples) / SAMPLE_RATE,
        decode_seconds=audio.decode_seconds,
        vad_seconds=vad_seconds,
        transcribe_seconds=transcribe_seconds,
    )


def _segments(raw: Iterable[Any], duration: float) -> list[Segment]:
    """Clean text; timestamps kept inside the recording (a model may overshoot the end)."""
    out: list[Segment] = []
    for item in raw:
        text = " ".join(str(item.text).split())
        if not text:
            continue
        start = min(max(float(item.start), 0.0), duration)
        end = min(max(float(item.end), start), duration)
        out.append(Segment(start=round(start, 2), end=round(end, 2), text=text))
    return out


def transcribe_file(source: AudioSource, settings: Settings, name: str | None = None,
                    max_seconds: float | None = None, language: str | None = None
                    ) -> Transcript:
    """load_audio + transcribe; the model is checked first so a missing one fails fast."""
    resolve_model_path(settings)
    limit = settings.speech_max_question_seconds if max_seconds is None else max_seconds
    return transcribe(load_audio(source, name, limit), settings, language)
