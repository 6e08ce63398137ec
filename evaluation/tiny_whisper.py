"""A tiny random Whisper model in faster-whisper's format, built offline in well under a second.

Real Whisper weights cannot be downloaded here, yet the speech pipeline's loading, decoding,
VAD and transcription path should run for real in tests and in the overhead benchmark. This
builds a randomly initialised Whisper (d_model 64, 2 encoder + 2 decoder layers) with
transformers, a byte-level tokenizer of its own and converts both with CTranslate2's
TransformersConverter. The transcript is gibberish; structure, timings and errors are real.

Layout of the vocabulary (as in the multilingual OpenAI models, 51,865 entries): 50,256 text
tokens, the empty-string token "" (CTranslate2 counts the model as multilingual only with it),
the special tokens with 99 languages, then 1,501 timestamp tokens added by the converter.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

TEXT_TOKENS = 50_256
VOCAB_SIZE = 51_865
# The 99 languages of the multilingual Whisper models before large-v3 (which added "yue").
LANGUAGES: tuple[str, ...] = tuple(
    "en zh de es ru ko fr ja pt tr pl ca nl ar sv it id hi fi vi he uk el ms cs ro da hu ta no "
    "th ur hr bg lt la mi ml cy sk te fa lv bn sr az sl kn et mk br eu is hy ne mn bs kk sq sw "
    "gl mr pa si km sn yo so af oc ka be tg sd gu am yi lo uz fo ht ps tk nn mt sa lb my bo tl "
    "mg as tt haw ln ha ba jw su".split()
)
SPECIAL_AFTER_LANGUAGES = ("<|translate|>", "<|transcribe|>", "<|startoflm|>", "<|startofprev|>",
                           "<|nocaptions|>", "<|notimestamps|>")


def _byte_alphabet() -> list[str]:
    """GPT-2's printable stand-ins for the 256 byte values (as in tokenizers' ByteLevel)."""
    printable = (list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
                 + list(range(ord("®"), ord("ÿ") + 1)))
    codes = printable[:]
    extra = 0
    for value in range(256):
        if value not in printable:
            printable.append(value)
            codes.append(256 + extra)
            extra += 1
    return [chr(code) for code in codes]


def _vocabulary() -> dict[str, int]:
    alphabet = _byte_alphabet()
    tokens: list[str] = list(alphabet)
    # Filler text tokens: pairs of byte symbols, so every id decodes to some bytes.
    for first in alphabet:
        for second in alphabet:
            if len(tokens) == TEXT_TOKENS:
                break
            tokens.append(first + second)
    tokens.append("")
    tokens += ["<|endoftext|>", "<|startoftranscript|>"]
    tokens += [f"<|{code}|>" for code in LANGUAGES]
    tokens += list(SPECIAL_AFTER_LANGUAGES)
    vocab = {token: index for index, token in enumerate(tokens)}
    assert len(vocab) == len(tokens), "duplicate token"
    return vocab


def tokenizer_json(vocab: dict[str, int]) -> dict[str, Any]:
    """A tokenizers.Tokenizer definition: byte-level BPE without merges plus special tokens."""
    specials = [token for token in vocab if token.startswith("<|")]
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [
            {"id": vocab[token], "content": token, "single_word": False, "lstrip": False,
             "rstrip": False, "normalized": False, "special": True}
            for token in specials
        ],
        "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True,
                          "use_regex": True},
        "post_processor": None,
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True,
                    "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None,
                  "continuing_subword_prefix": None, "end_of_word_suffix": None,
                  "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                  "vocab": vocab, "merges": []},
    }


def build_tiny_whisper(target: Path, seed: int = 0) -> Path:
    """Write a faster-whisper model folder (model.bin, config.json, vocabulary, tokenizer.json)
    to `target` (created; must not hold another model) and return it."""
    import ctranslate2
    import torch
    import transformers
    from transformers import GenerationConfig, PreTrainedTokenizerFast, WhisperConfig

    vocab = _vocabulary()
    first_special = vocab["<|endoftext|>"]
    config = WhisperConfig(
        vocab_size=VOCAB_SIZE, num_mel_bins=80, d_model=64,
        encoder_layers=2, encoder_attention_heads=2, decoder_layers=2,
        decoder_attention_heads=2, encoder_ffn_dim=128, decoder_ffn_dim=128,
        max_source_positions=1500, max_target_positions=448,
        pad_token_id=first_special, bos_token_id=first_special, eos_token_id=first_special,
        decoder_start_token_id=vocab["<|startoftranscript|>"],
        suppress_tokens=[], begin_suppress_tokens=[220, first_special],
    )
    torch.manual_seed(seed)
    model = transformers.WhisperForConditionalGeneration(config)
    model.generation_config = GenerationConfig(
        decoder_start_token_id=config.decoder_start_token_id, eos_token_id=first_special,
        pad_token_id=first_special, suppress_tokens=[], begin_suppress_tokens=[220, first_special],
        lang_to_id={f"<|{code}|>": vocab[f"<|{code}|>"] for code in LANGUAGES},
        alignment_heads=[[1, 0], [1, 1]],
    )
    definition = tokenizer_json(vocab)
    with tempfile.TemporaryDirectory(prefix="tiny-whisper-src-") as source_name:
        source = Path(source_name)
        model.save_pretrained(source)
        (source / "tokenizer.json").write_text(json.dumps(definition), encoding="utf-8")
        tokenizer = PreTrainedTokenizerFast(tokenizer_file=str(source / "tokenizer.json"))

        class _Converter(ctranslate2.converters.TransformersConverter):  # type: ignore[misc]
            def load_tokenizer(self, tokenizer_class: Any, model_name_or_path: str,
                               **kwargs: Any) -> Any:
                return tokenizer

        _Converter(str(source)).convert(str(target), quantization="float32", force=True)
    (target / "tokenizer.json").write_text(json.dumps(definition), encoding="utf-8")
    return target
