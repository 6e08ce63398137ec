"""Speech input end to end: real German recordings (Thorsten-Voice, 22.05 kHz) re-encoded with
PyAV into every upload format, decoded, resampled, mixed down, cut by the Silero VAD and
transcribed by a tiny random Whisper model through the real faster-whisper path.

The tiny model's words are gibberish, so transcription tests check structure (segments inside
the recording, language fields, timings), never text. Errors are checked by their German text.
"""

from __future__ import annotations

import io
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

from pipelines.settings import Settings
from pipelines.speech import (
    SAMPLE_RATE,
    Audio,
    SpeechError,
    SpeechModelError,
    Transcript,
    clear_model_cache,
    load_audio,
    load_model,
    model_status,
    resolve_model_path,
    speech_regions,
    transcribe,
    transcribe_file,
)
from tests.conftest import SHARED_DATA
from tests.support.tiny_whisper import tiny_whisper_fixture  # noqa: F401

SAMPLES = SHARED_DATA / "thorsten-voice-de-samples"
LONGEST = SAMPLES / "sample03-gt.wav"  # 4.93 s: "Europa und Asien zusammengenommen …"
FORMATS = [  # (suffix, container format, codec, sample rate)
    ("wav", "wav", "pcm_s16le", 44_100),
    ("mp3", "mp3", "libmp3lame", 44_100),
    ("ogg", "ogg", "libopus", 48_000),
    ("m4a", "ipod", "aac", 44_100),
    ("webm", "webm", "libopus", 48_000),
]

pytestmark = pytest.mark.skipif(not SAMPLES.is_dir(),
                                reason=f"Sprachaufnahmen fehlen: {SAMPLES}")


# --------------------------------------------------------------------------- helpers


def original(path: Path = LONGEST) -> tuple[np.ndarray, int]:
    """The recording as float32 mono at its own sample rate, decoded by PyAV directly."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        frames = [f.to_ndarray().astype(np.float32).reshape(-1) / 32768.0
                  for f in container.decode(stream)]
        return np.concatenate(frames), int(stream.rate)


class _Unseekable(io.RawIOBase):
    """A sink like a browser's MediaRecorder stream: no seeking, so no length in the header."""

    def __init__(self) -> None:
        self.data = bytearray()

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def write(self, chunk: Any) -> int:
        self.data += bytes(chunk)
        return len(chunk)


def encode(channels: np.ndarray, rate_in: int, container: str, codec: str, rate_out: int,
           streaming: bool = False) -> bytes:
    """Encode (channels, samples) float32 at rate_in into a file of `container` at rate_out."""
    layout = "stereo" if channels.shape[0] == 2 else "mono"
    sink: Any = _Unseekable() if streaming else io.BytesIO()
    with av.open(sink, mode="w", format=container) as out:
        stream = out.add_stream(codec, rate=rate_out, layout=layout)
        resampler = av.AudioResampler(format=stream.codec_context.format.name, layout=layout,
                                      rate=rate_out)
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(channels, dtype=np.float32),
                                           format="fltp", layout=layout)
        frame.sample_rate = rate_in
        for resampled in resampler.resample(frame) + resampler.resample(None):
            for packet in stream.encode(resampled):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return bytes(sink.data) if streaming else sink.getvalue()


def stereo(mono: np.ndarray, right_gain: float = 1.0) -> np.ndarray:
    return np.stack([mono, mono * right_gain])


def envelope(samples: np.ndarray, frame_seconds: float = 0.05) -> np.ndarray:
    size = int(SAMPLE_RATE * frame_seconds)
    count = len(samples) // size
    return np.sqrt(np.mean(samples[: count * size].reshape(count, size) ** 2, axis=1))


def same_speech(decoded: np.ndarray, reference: np.ndarray) -> float:
    """Best correlation of the loudness envelopes within ±0.2 s (codecs add some delay)."""
    target = envelope(reference)
    best = -1.0
    for lag_ms in range(-200, 201, 5):
        shift = int(lag_ms * SAMPLE_RATE / 1000)
        shifted = decoded[shift:] if shift >= 0 else np.concatenate(
            [np.zeros(-shift, np.float32), decoded])
        candidate = envelope(shifted)
        n = min(len(candidate), len(target))
        best = max(best, float(np.corrcoef(candidate[:n], target[:n])[0, 1]))
    return best


def with_silence(audio: Audio, layout: list[tuple[str, float]]) -> Audio:
    """("speech", 0) / ("silence", seconds) pieces joined; speech = the whole recording."""
    pieces = [audio.samples if kind == "speech" else np.zeros(int(seconds * SAMPLE_RATE),
                                                              np.float32)
              for kind, seconds in layout]
    return Audio(np.concatenate(pieces), "mit-pausen.wav", "wav", SAMPLE_RATE, 1, 0.0)


@pytest.fixture
def speech_settings(make_settings: Callable[..., Settings],
                    tiny_whisper: Path) -> Callable[..., Settings]:
    """Settings on the tiny model; greedy decoding without temperature fallback (fast)."""

    def factory(**overrides: Any) -> Settings:
        values: dict[str, Any] = {"speech_model": str(tiny_whisper), "speech_beam_size": 1,
                                  "speech_temperature_fallback": False}
        values.update(overrides)
        return make_settings(**values)

    return factory


@pytest.fixture(autouse=True)
def fresh_model_cache() -> None:
    clear_model_cache()


# --------------------------------------------------------------------------- decoding


@pytest.mark.parametrize("path", sorted(SAMPLES.glob("*.wav")), ids=lambda p: p.name)
def test_real_recordings_resample_to_16k(path: Path) -> None:
    samples, rate = original(path)

    audio = load_audio(path)

    assert rate == 22_050 and audio.source_rate == 22_050 and audio.source_channels == 1
    assert audio.samples.dtype == np.float32 and audio.samples.ndim == 1
    expected = len(samples) / rate * SAMPLE_RATE
    assert abs(len(audio.samples) - expected) <= 0.005 * SAMPLE_RATE  # within 5 ms
    assert audio.name == path.name and audio.decode_seconds > 0
    assert 0.01 < audio.rms < 0.5


@pytest.mark.parametrize("suffix, container, codec, rate", FORMATS, ids=[f[0] for f in FORMATS])
def test_each_upload_format_decodes_from_stereo_at_its_rate(
        suffix: str, container: str, codec: str, rate: int) -> None:
    samples, rate_in = original()
    reference = load_audio(LONGEST)
    data = encode(stereo(samples), rate_in, container, codec, rate)

    audio = load_audio(data, name=f"frage.{suffix}")

    assert audio.name == f"frage.{suffix}"
    assert audio.source_rate == rate and audio.source_channels == 2
    assert abs(audio.duration - reference.duration) < 0.1  # AAC adds ~50 ms of priming
    assert same_speech(audio.samples, reference.samples) > 0.9


def test_paths_and_file_objects_are_accepted(tmp_path: Path) -> None:
    samples, rate = original()
    data = encode(stereo(samples), rate, "mp3", "libmp3lame", 44_100)
    path = tmp_path / "anruf.mp3"
    path.write_bytes(data)

    from_path = load_audio(path)
    from_str = load_audio(str(path))
    with path.open("rb") as handle:
        from_handle = load_audio(handle)

    assert from_path.name == from_str.name == from_handle.name == "anruf.mp3"
    assert np.array_equal(from_path.samples, from_handle.samples)
    assert np.array_equal(from_path.samples, load_audio(data).samples)


def test_stereo_is_mixed_down_not_one_channel_taken() -> None:
    samples, rate = original()
    reference = load_audio(LONGEST)
    both = load_audio(encode(stereo(samples), rate, "wav", "pcm_s16le", 48_000))
    left_only = load_audio(encode(stereo(samples, right_gain=0.0), rate, "wav", "pcm_s16le",
                                  48_000))
    opposite = load_audio(encode(stereo(samples, right_gain=-1.0), rate, "wav", "pcm_s16le",
                                 48_000))

    assert same_speech(left_only.samples, reference.samples) > 0.95
    # Half the signal is missing in one channel: the mix is about half as loud.
    assert 0.4 < left_only.rms / both.rms < 0.6
    # Opposite phases cancel in a true mix-down.
    assert opposite.rms < 0.01 * both.rms


# --------------------------------------------------------------------------- bad audio


def test_empty_input_is_refused_by_name(tmp_path: Path) -> None:
    empty = tmp_path / "leer.wav"
    empty.write_bytes(b"")

    with pytest.raises(SpeechError, match=r"„leer\.wav“ ist leer \(0 Bytes\)"):
        load_audio(empty)
    with pytest.raises(SpeechError, match=r"„aufnahme\.webm“ ist leer"):
        load_audio(b"", name="aufnahme.webm")
    with pytest.raises(SpeechError, match=r"„fehlt\.mp3“: Datei nicht gefunden"):
        load_audio(tmp_path / "fehlt.mp3")


@pytest.mark.parametrize("name, data", [
    ("brief.mp3", "Sehr geehrte Damen und Herren, Grüße\n".encode() * 40),
    ("rauschen.wav", np.random.default_rng(7).bytes(20_000)),
    ("bericht.m4a", b"%PDF-1.4\n" + b"0" * 4000),
    ("abgeschnitten.ogg", b"OggS\x00\x02" + b"\x00" * 30),
])
def test_corrupt_or_foreign_files_are_refused_by_name(name: str, data: bytes) -> None:
    with pytest.raises(SpeechError, match=rf"„{name}“ ist keine lesbare Audiodatei"):
        load_audio(data, name=name)


def test_a_picture_has_no_sound_track() -> None:
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(
            ">I", zlib.crc32(kind + body))

    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 1, 8, 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(b"\x00" + b"\xff\x00\x00" * 2)) + chunk(b"IEND", b""))

    with pytest.raises(SpeechError, match=r"„foto\.webm“ enthält keine Tonspur"):
        load_audio(png, name="foto.webm")


def test_truncated_recording_keeps_what_is_readable() -> None:
    data = LONGEST.read_bytes()

    audio = load_audio(data[: len(data) // 2], name="halb.wav")

    assert 2.0 < audio.duration < 2.9  # half of 4.93 s; no error for a cut-off upload


def test_too_long_is_refused_from_the_header() -> None:
    samples, rate = original()
    data = encode(stereo(np.tile(samples, 3)), rate, "wav", "pcm_s16le", 44_100)  # 14.8 s

    with pytest.raises(SpeechError, match=r"„lang\.wav“ ist 0:15 lang; erlaubt sind "
                                          r"höchstens 0:10"):
        load_audio(data, name="lang.wav", max_seconds=10)
    assert load_audio(data, max_seconds=20).duration == pytest.approx(14.79, abs=0.02)


def test_too_long_without_a_declared_length_stops_while_decoding() -> None:
    samples, rate = original()
    # A browser-style streamed WebM carries no duration; decoding must stop at the limit.
    data = encode(stereo(np.tile(samples, 6)), rate, "webm", "libopus", 48_000, streaming=True)
    with av.open(io.BytesIO(data)) as container:
        assert container.duration is None and container.streams.audio[0].duration is None

    with pytest.raises(SpeechError, match=r"„mikrofon\.webm“ ist 0:\d\d lang; erlaubt sind "
                                          r"höchstens 0:05"):
        load_audio(data, name="mikrofon.webm", max_seconds=5)
    assert abs(load_audio(data, max_seconds=60).duration - 6 * 4.93) < 0.1


# --------------------------------------------------------------------------- VAD


def test_vad_finds_speech_where_it_was_placed(speech_settings: Callable[..., Settings]) -> None:
    speech = load_audio(LONGEST)
    padded = with_silence(speech, [("silence", 3.0), ("speech", 0), ("silence", 3.0),
                                   ("speech", 0), ("silence", 2.0)])

    regions = speech_regions(padded, speech_settings())

    assert len(regions) == 2
    first_start = 3.0
    second_start = 3.0 + speech.duration + 3.0
    (a_start, a_end), (b_start, b_end) = ((s / SAMPLE_RATE, e / SAMPLE_RATE) for s, e in regions)
    # Silero pads each stretch by 0.4 s; the recording itself has ~0.2 s of lead-in.
    assert first_start - 0.6 < a_start < first_start + 0.5
    assert first_start + speech.duration - 0.6 < a_end < first_start + speech.duration + 0.6
    assert second_start - 0.6 < b_start < second_start + 0.5
    assert b_end < padded.duration


def test_pure_silence_and_noise_have_no_speech(speech_settings: Callable[..., Settings]) -> None:
    settings = speech_settings()
    silence = Audio(np.zeros(5 * SAMPLE_RATE, np.float32), "stille.wav", "wav", 16_000, 1, 0.0)
    hum = Audio((0.05 * np.sin(2 * np.pi * 50 * np.arange(5 * SAMPLE_RATE) / SAMPLE_RATE))
                .astype(np.float32), "brummen.wav", "wav", 16_000, 1, 0.0)

    with pytest.raises(SpeechError, match=r"„stille\.wav“: keine Sprache erkannt – die "
                                          r"Aufnahme ist still"):
        transcribe(silence, settings)
    with pytest.raises(SpeechError, match=r"„brummen\.wav“: keine Sprache erkannt \(nur "
                                          r"Stille oder Geräusche, 0:05 lang\)"):
        transcribe(hum, settings)


def test_silent_upload_end_to_end(speech_settings: Callable[..., Settings]) -> None:
    data = encode(np.zeros((2, 3 * 44_100), np.float32), 44_100, "mp3", "libmp3lame", 44_100)

    with pytest.raises(SpeechError, match=r"„leise\.mp3“: keine Sprache erkannt"):
        transcribe_file(data, speech_settings(), name="leise.mp3")


# --------------------------------------------------------------------------- transcription


def check_structure(transcript: Transcript, duration: float, decoded: bool = True) -> None:
    assert transcript.duration == pytest.approx(duration, abs=0.01)
    assert transcript.segments, "the tiny model always emits some tokens"
    for segment in transcript.segments:
        assert 0.0 <= segment.start <= segment.end <= transcript.duration
        assert segment.text == segment.text.strip() and segment.text
    assert transcript.text == " ".join(s.text for s in transcript.segments)
    assert transcript.transcribe_seconds > 0
    assert (transcript.decode_seconds > 0) is decoded  # arrays made in memory were not decoded
    assert transcript.real_time_factor == pytest.approx(
        (transcript.decode_seconds + transcript.vad_seconds + transcript.transcribe_seconds)
        / transcript.duration)


def test_transcribe_an_upload_with_language_detection(
        speech_settings: Callable[..., Settings]) -> None:
    from faster_whisper.tokenizer import _LANGUAGE_CODES

    samples, rate = original()
    data = encode(stereo(samples), rate, "ogg", "libopus", 48_000)

    transcript = transcribe_file(data, speech_settings(), name="frage.ogg")

    check_structure(transcript, load_audio(data).duration)
    assert transcript.name == "frage.ogg"
    assert transcript.language in _LANGUAGE_CODES
    assert 0.0 < transcript.language_probability <= 1.0
    assert transcript.vad_seconds > 0 and transcript.speech_regions
    payload = transcript.to_dict()
    assert payload["segments"][0].keys() == {"start", "end", "text"}
    assert payload["real_time_factor"] > 0


def test_fixed_language(speech_settings: Callable[..., Settings]) -> None:
    transcript = transcribe(load_audio(LONGEST), speech_settings(), language="de")

    assert transcript.language == "de" and transcript.language_probability == 1.0
    assert transcribe(load_audio(LONGEST), speech_settings(speech_language="de")).language == "de"


def test_unknown_language_code_is_a_clear_error(speech_settings: Callable[..., Settings]) -> None:
    with pytest.raises(SpeechError, match=r"„sample03-gt\.wav“: Spracherkennung nicht möglich"):
        transcribe(load_audio(LONGEST), speech_settings(), language="xx")


def test_timestamps_stay_in_the_original_time_after_vad(
        speech_settings: Callable[..., Settings]) -> None:
    padded = with_silence(load_audio(LONGEST), [("silence", 4.0), ("speech", 0),
                                                ("silence", 4.0)])

    transcript = transcribe(padded, speech_settings())

    check_structure(transcript, padded.duration, decoded=False)
    (start, end), = transcript.speech_regions
    assert 3.3 < start < 4.5 and end < padded.duration - 3.0
    assert transcript.speech_seconds == pytest.approx(end - start, abs=0.01)
    # Without restoring, the first segment would start near 0 s of the cut audio.
    assert transcript.segments[0].start >= start - 0.05


def test_vad_can_be_switched_off(speech_settings: Callable[..., Settings]) -> None:
    padded = with_silence(load_audio(LONGEST), [("silence", 2.0), ("speech", 0)])

    transcript = transcribe(padded, speech_settings(speech_vad=False))

    assert transcript.speech_regions == [(0.0, round(padded.duration, 3))]
    assert transcript.vad_seconds == 0.0
    check_structure(transcript, padded.duration, decoded=False)


@pytest.mark.slow
def test_default_decoding_with_beam_search_and_fallback(
        speech_settings: Callable[..., Settings]) -> None:
    transcript = transcribe(load_audio(LONGEST),
                            speech_settings(speech_beam_size=5, speech_temperature_fallback=True))

    check_structure(transcript, 4.93)


# --------------------------------------------------------------------------- the model


def test_model_is_loaded_once_per_settings(speech_settings: Callable[..., Settings]) -> None:
    first = load_model(speech_settings())
    again = load_model(speech_settings(speech_beam_size=3))  # decoding option: same model
    other = load_model(speech_settings(speech_compute_type="float32"))

    assert first is again
    assert other is not first


def test_missing_model_folder_says_how_to_provide_one(
        make_settings: Callable[..., Settings], tmp_path: Path) -> None:
    settings = make_settings(speech_model=str(tmp_path / "gibt-es-nicht"))

    with pytest.raises(SpeechModelError) as raised:
        load_model(settings)

    message = str(raised.value)
    assert f"Ordner „{tmp_path / 'gibt-es-nicht'}“ gibt es nicht" in message
    assert "CHATWERKSTATT_SPEECH_MODEL=" in message
    assert "ct2-transformers-converter" in message
    assert str(settings.data_dir / "models" / "whisper") in message
    ready, status = model_status(settings)
    assert not ready and "gibt es nicht" in status


def test_model_name_not_on_this_machine_is_not_downloaded(
        make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(speech_model="small")

    with pytest.raises(SpeechModelError, match=r"„small“ ist auf diesem Rechner nicht "
                                               r"vorhanden .*heruntergeladen wird nichts"):
        resolve_model_path(settings)


def test_missing_model_fails_before_the_audio_is_decoded(
        make_settings: Callable[..., Settings]) -> None:
    with pytest.raises(SpeechModelError):
        transcribe_file(b"kein Ton", make_settings(speech_model="small"), name="x.wav")


def test_model_in_the_data_folder_is_found_by_name(
        make_settings: Callable[..., Settings], tiny_whisper: Path) -> None:
    settings = make_settings(speech_model="small")
    shutil.copytree(tiny_whisper, settings.data_dir / "models" / "whisper")

    assert resolve_model_path(settings) == settings.data_dir / "models" / "whisper"
    assert model_status(settings)[0]

    named = make_settings(speech_model="medium")
    shutil.copytree(tiny_whisper, named.data_dir / "models" / "faster-whisper-medium")
    assert resolve_model_path(named) == named.data_dir / "models" / "faster-whisper-medium"


def test_model_path_from_the_environment(monkeypatch: pytest.MonkeyPatch,
                                         tiny_whisper: Path) -> None:
    monkeypatch.setenv("CHATWERKSTATT_SPEECH_MODEL", str(tiny_whisper))

    assert resolve_model_path(Settings(_env_file=None)) == tiny_whisper  # type: ignore[call-arg]


def test_incomplete_model_folder_names_the_missing_file(
        make_settings: Callable[..., Settings], tiny_whisper: Path, tmp_path: Path) -> None:
    folder = tmp_path / "halb-kopiert"
    shutil.copytree(tiny_whisper, folder)
    (folder / "tokenizer.json").unlink()

    with pytest.raises(SpeechModelError, match=r"unvollständig: es fehlt tokenizer\.json"):
        load_model(make_settings(speech_model=str(folder)))


def test_broken_model_file_is_a_clear_error(
        make_settings: Callable[..., Settings], tiny_whisper: Path, tmp_path: Path) -> None:
    folder = tmp_path / "kaputt"
    shutil.copytree(tiny_whisper, folder)
    model_bin = folder / "model.bin"
    model_bin.write_bytes(model_bin.read_bytes()[:1000])

    with pytest.raises(SpeechModelError, match=r"lässt sich nicht laden .*vollständig kopiert"):
        load_model(make_settings(speech_model=str(folder)))


# --------------------------------------------------------------------------- benchmark


def test_word_error_rate() -> None:
    from evaluation.bench_speech import word_error_rate

    assert word_error_rate("Eure Tröte nervt.", "eure tröte nervt") == 0.0
    assert word_error_rate("Eure Tröte nervt.", "Eure Flöte nervt!") == pytest.approx(1 / 3)
    assert word_error_rate("Schoko-Bonbons sind lecker", "Schoko Bonbons") == pytest.approx(0.5)
    assert word_error_rate("a b", "") == 1.0


def test_bench_cli_refuses_without_a_usable_model(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    from evaluation.__main__ import main

    assert main(["bench", "speech", "--quiet"]) == 2
    assert "Bitte --model" in capsys.readouterr().err
    assert main(["bench", "speech", "--model", str(tmp_path / "nix"), "--quiet"]) == 2
    assert "Spracherkennungsmodell nicht gefunden" in capsys.readouterr().err
