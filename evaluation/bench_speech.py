"""Speech benchmark: real-time factor and memory of a faster-whisper model on this machine, and
the pipeline's own overhead (decoding, resampling, VAD) around the model.

    python -m evaluation bench speech --model PATH|NAME|tiny-random [--rounds N] [--json]

Recordings: the Thorsten-Voice samples (../shared/data/thorsten-voice-de-samples, 22.05 kHz
mono) one by one, plus all four joined with a second of silence between them and re-encoded
as a 48 kHz stereo WebM/Opus upload (the browser microphone's format). "tiny-random" builds the
random test model in a temporary folder (in a child process, so torch stays out of this
process's memory): its transcripts are gibberish and its speed says nothing about a real
model, but decoding/resampling/VAD cost the same for every model.

Times are medians over `rounds` warm runs after one warm-up; the model load is timed once.
Word error rate is reported for real models only (4 short utterances: a smoke test, no
statistic).
"""

from __future__ import annotations

import io
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from pipelines.settings import REPO_ROOT, Settings
from pipelines.speech import (
    SAMPLE_RATE,
    Audio,
    load_audio,
    load_model,
    resolve_model_path,
    speech_regions,
    transcribe,
)

SAMPLES_DIR = REPO_ROOT.parent / "shared" / "data" / "thorsten-voice-de-samples"
LONG_RECORDING_SECONDS = 600
TINY_NAMES = {"tiny-random", "tiny_random", "random"}
UPLOAD_FORMATS = [  # (name, container, codec, rate): what users upload
    ("wav", "wav", "pcm_s16le", 44_100),
    ("mp3", "mp3", "libmp3lame", 44_100),
    ("ogg", "ogg", "libopus", 48_000),
    ("m4a", "ipod", "aac", 44_100),
    ("webm", "webm", "libopus", 48_000),
]


def _rss_mb() -> float:
    import psutil

    return round(psutil.Process().memory_info().rss / 2**20, 1)


def _peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # KiB on Linux


def read_transcripts(folder: Path = SAMPLES_DIR) -> dict[str, str]:
    lines = (folder / "transcripts.tsv").read_text(encoding="utf-8").splitlines()[1:]
    return dict(line.split("\t", 1) for line in lines if "\t" in line)


def _normalise(text: str) -> list[str]:
    return re.sub(r"[^\w\s-]", " ", text.lower()).replace("-", " ").split()


def word_error_rate(reference: str, hypothesis: str) -> float:
    """Levenshtein distance over words / reference words (case and punctuation ignored)."""
    ref, hyp = _normalise(reference), _normalise(hypothesis)
    previous = list(range(len(hyp) + 1))
    for i, word in enumerate(ref, start=1):
        current = [i] + [0] * len(hyp)
        for j, other in enumerate(hyp, start=1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1,
                             previous[j - 1] + (word != other))
        previous = current
    return previous[-1] / max(len(ref), 1)


def encode(samples: np.ndarray, rate_in: int, container: str, codec: str, rate_out: int,
           channels: int = 2) -> bytes:
    """Float32 mono samples as an upload file (stereo by duplicating the channel)."""
    import av

    layout = "stereo" if channels == 2 else "mono"
    data = np.stack([samples] * channels).astype(np.float32)
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format=container) as out:
        stream: Any = out.add_stream(codec, rate=rate_out, layout=layout)
        resampler = av.AudioResampler(format=stream.codec_context.format.name, layout=layout,
                                      rate=rate_out)
        # One-second frames: one huge frame would make the encoder's memory the peak measured.
        for start in [*range(0, data.shape[1], rate_in), None]:
            if start is None:
                pieces = resampler.resample(None)
            else:
                frame = av.AudioFrame.from_ndarray(
                    np.ascontiguousarray(data[:, start : start + rate_in]), format="fltp",
                    layout=layout)
                frame.sample_rate = rate_in
                frame.pts = start
                pieces = resampler.resample(frame)
            for resampled in pieces:
                for packet in stream.encode(resampled):
                    out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return buffer.getvalue()


def build_tiny_model_in_child(target: Path) -> float:
    """Build the random test model in a separate interpreter; seconds taken."""
    started = time.perf_counter()
    code = ("import pipelines, sys; from pathlib import Path; "
            "from evaluation.tiny_whisper import build_tiny_whisper; "
            "build_tiny_whisper(Path(sys.argv[1]))")
    subprocess.run([sys.executable, "-c", code, str(target)], cwd=REPO_ROOT, check=True,
                   env={**os.environ, "PYTHONPATH": str(REPO_ROOT)}, capture_output=True)
    return time.perf_counter() - started


def _median(values: list[float]) -> float:
    return round(statistics.median(values), 4) if values else 0.0


def _joined_meeting(audios: list[Audio]) -> np.ndarray:
    gap = np.zeros(SAMPLE_RATE, np.float32)
    pieces: list[np.ndarray] = [gap]
    for audio in audios:
        pieces += [audio.samples, gap]
    return np.concatenate(pieces)


def _long_recording_overhead(meeting: np.ndarray, settings: Settings,
                             say: Callable[[str], None]) -> dict[str, Any]:
    """Decoding + VAD of a 10-minute WebM upload (the sample meeting repeated): the part of a
    long meeting's processing time that does not depend on the model."""
    repeats = int(np.ceil(LONG_RECORDING_SECONDS * SAMPLE_RATE / len(meeting)))
    samples = np.tile(meeting, repeats)[: LONG_RECORDING_SECONDS * SAMPLE_RATE]
    data = encode(samples, SAMPLE_RATE, "webm", "libopus", 48_000)
    audio = load_audio(data, name="lange-sitzung.webm",
                       max_seconds=settings.speech_max_recording_seconds)
    started = time.perf_counter()
    regions = speech_regions(audio, settings)
    vad_seconds = time.perf_counter() - started
    result = {
        "audio_seconds": round(audio.duration, 1),
        "upload_kib": len(data) // 1024,
        "decode_resample_seconds": round(audio.decode_seconds, 3),
        "vad_seconds": round(vad_seconds, 3),
        "speech_regions": len(regions),
        "overhead_per_audio_second_ms": round(
            1000 * (audio.decode_seconds + vad_seconds) / audio.duration, 3),
    }
    say(f"10 Minuten WebM: Dekodieren {result['decode_resample_seconds']} s, "
        f"VAD {result['vad_seconds']} s")
    return result


def run(model: str, settings: Settings, rounds: int = 3,
        progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    say = progress or (lambda _m: None)
    rounds = max(1, rounds)
    wavs = sorted(SAMPLES_DIR.glob("*.wav"))
    if not wavs:
        raise FileNotFoundError(f"Keine Aufnahmen in {SAMPLES_DIR}.")
    references = read_transcripts()
    with tempfile.TemporaryDirectory(prefix="bench-speech-") as folder:
        tiny = model in TINY_NAMES
        build_seconds = None
        if tiny:
            target = Path(folder) / "tiny-whisper"
            build_seconds = round(build_tiny_model_in_child(target), 2)
            say(f"Zufallsmodell gebaut in {build_seconds} s")
            model = str(target)
        update: dict[str, Any] = {"speech_model": model}
        if tiny:  # random weights never stop early: greedy, no fallback, or it takes minutes
            update.update(speech_beam_size=1, speech_temperature_fallback=False)
        settings = settings.model_copy(update=update)
        resolve_model_path(settings)  # SpeechModelError with the German how-to

        rss_start = _rss_mb()
        raw = [load_audio(path) for path in wavs]
        meeting = _joined_meeting(raw)
        webm = encode(meeting, SAMPLE_RATE, "webm", "libopus", 48_000)

        started = time.perf_counter()
        load_model(settings)
        load_seconds = time.perf_counter() - started
        rss_loaded = _rss_mb()
        say(f"Modell geladen in {load_seconds:.2f} s, RSS {rss_loaded} MB")

        recordings: list[dict[str, Any]] = []
        inputs: list[tuple[str, bytes | Path]] = [(p.name, p) for p in wavs]
        inputs.append(("sitzung.webm (alle vier, 48 kHz stereo)", webm))
        for label, source in inputs:
            runs: list[dict[str, float]] = []
            transcript = None
            for _ in range(rounds + 1):  # the first run warms caches and is dropped
                transcript = transcribe(load_audio(source, name=label), settings)
                runs.append({"decode": transcript.decode_seconds, "vad": transcript.vad_seconds,
                             "transcribe": transcript.transcribe_seconds,
                             "total": transcript.total_seconds})
            assert transcript is not None
            warm = runs[1:]
            total = _median([r["total"] for r in warm])
            row: dict[str, Any] = {
                "recording": label,
                "audio_seconds": round(transcript.duration, 2),
                "decode_seconds": _median([r["decode"] for r in warm]),
                "vad_seconds": _median([r["vad"] for r in warm]),
                "transcribe_seconds": _median([r["transcribe"] for r in warm]),
                "total_seconds": total,
                "real_time_factor": round(total / transcript.duration, 4),
                "overhead_share": round(
                    (_median([r["decode"] for r in warm]) + _median([r["vad"] for r in warm]))
                    / total, 4) if total else None,
                "language": transcript.language,
                "language_probability": round(transcript.language_probability, 3),
            }
            if not tiny:
                row["text"] = transcript.text
                if label in references:
                    row["wer"] = round(word_error_rate(references[label], transcript.text), 3)
            recordings.append(row)
            say(f"{label}: RTF {row['real_time_factor']}, Anteil Dekodieren+VAD "
                f"{row['overhead_share']}")
        peak_model_phase = _peak_rss_mb()

        # Decoding and resampling per upload format, and a long recording (no model involved).
        formats: dict[str, Any] = {}
        for name, container, codec, rate in UPLOAD_FORMATS:
            data = encode(meeting, SAMPLE_RATE, container, codec, rate)
            times = []
            for _ in range(rounds + 1):
                decoded = load_audio(data, name=f"sitzung.{name}")
                times.append(decoded.decode_seconds)
            formats[name] = {
                "source": f"{rate} Hz stereo, {len(data) // 1024} KiB",
                "decode_resample_seconds": _median(times[1:]),
                "per_audio_second_ms": round(1000 * _median(times[1:]) / decoded.duration, 3),
            }
        say("Dekodieren: " + ", ".join(f"{k} {v['per_audio_second_ms']} ms/s"
                                       for k, v in formats.items()))
        long_recording = _long_recording_overhead(meeting, settings, say)

    audio_total = sum(r["audio_seconds"] for r in recordings)
    time_total = sum(r["total_seconds"] for r in recordings)
    overhead_total = sum(r["decode_seconds"] + r["vad_seconds"] for r in recordings)
    wers = [r["wer"] for r in recordings if "wer" in r]
    return {
        "model": "tiny-random (Zufallsgewichte, nur Aufwand der Pipeline)" if tiny
        else settings.speech_model,
        "model_folder_built_seconds": build_seconds,
        "device": settings.speech_device,
        "compute_type": settings.speech_compute_type,
        "beam_size": settings.speech_beam_size,
        "temperature_fallback": settings.speech_temperature_fallback,
        "cpu_threads": settings.speech_cpu_threads or "Standard (4)",
        "cpu_count": os.cpu_count(),
        "rounds": rounds,
        "model_load_seconds": round(load_seconds, 3),
        "rss_before_model_mb": rss_start,
        "rss_after_load_mb": rss_loaded,
        "peak_rss_mb": peak_model_phase,
        "peak_rss_mb_with_10_min_recording": _peak_rss_mb(),
        "real_time_factor": round(time_total / audio_total, 4) if audio_total else None,
        "overhead_seconds_per_audio_second_ms": round(1000 * overhead_total / audio_total, 3)
        if audio_total else None,
        "mean_wer": round(sum(wers) / len(wers), 3) if wers else None,
        "recordings": recordings,
        "decode_by_format": formats,
        "long_recording": long_recording,
    }


def summary(payload: dict[str, Any]) -> dict[str, Any]:
    """The headline figures for the plain-text output."""
    keys = ("model", "compute_type", "beam_size", "model_load_seconds", "peak_rss_mb",
            "real_time_factor", "overhead_seconds_per_audio_second_ms", "mean_wer",
            "long_recording")
    out = {key: payload[key] for key in keys}
    out["recordings"] = {r["recording"]: f"RTF {r['real_time_factor']}, Dekodieren "
                         f"{r['decode_seconds']} s, VAD {r['vad_seconds']} s, Erkennung "
                         f"{r['transcribe_seconds']} s" for r in payload["recordings"]}
    out["decode_by_format"] = {k: f"{v['per_audio_second_ms']} ms je Sekunde Ton"
                               for k, v in payload["decode_by_format"].items()}
    return out
