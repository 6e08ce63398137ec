"""A stand-in Ollama server (plus the OpenAI-compatible `/v1` API) for tests.

It is a real HTTP server on 127.0.0.1 so the real clients (`ollama`, llama-index `Ollama` and
`OpenAILike`, `openai`) run unchanged against it. Standard library only.

    with FakeLLMServer(models=["llama3.2:3b"]) as server:
        client = ollama.Client(host=server.url)
        server.set_faults(delay_first_byte=2.0)    # stall, to test client timeouts

Faults only touch the inference endpoints (`FAULT_PATHS`), so health checks and model
listing keep working while "the model" misbehaves.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import re
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlsplit

Responder = Callable[[list[dict[str, Any]], str], str]
"""(messages, model) -> reply text. Messages are dicts with "role" and "content"."""

DEFAULT_MODELS: tuple[str, ...] = ("llama3.2:3b", "nomic-embed-text:latest")
DEFAULT_EMBEDDING_DIM = 384
DEFAULT_CONTEXT_LENGTH = 8192
OLLAMA_VERSION = "0.12.0"

FAULT_PATHS: frozenset[str] = frozenset(
    {
        "/api/chat",
        "/api/generate",
        "/api/embed",
        "/api/embeddings",
        "/v1/chat/completions",
        "/v1/completions",
        "/v1/embeddings",
    }
)

_EMBEDDING_HINTS = ("embed", "minilm", "bge", "e5-")


# --------------------------------------------------------------------------- responder


_SOURCE_MARKER = re.compile(r"^[ \t]*\[(\d+)\]", re.MULTILINE)
_SENTENCE_END = re.compile(r"[.!?](?=\s+[\"„(A-ZÄÖÜ0-9]|\s*$)")
# Abbreviations common in German municipal texts; a period after them ends no sentence.
_ABBREVIATIONS = frozenset(
    "z.b. d.h. u.a. bzw. ca. nr. str. ggf. usw. etc. tel. dr. vgl. inkl. evtl. max. min. "
    "mo. di. mi. do. fr. sa. so. abs. s. u. o. ff. gem. lt. zzgl. jan. feb. aug. sept. okt. "
    "nov. dez.".split()
)


def message_text(message: dict[str, Any]) -> str:
    """Text of a chat message; OpenAI-style content may be a list of parts."""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return ""


def first_sentence(text: str, max_chars: int = 300) -> str:
    """First sentence of `text`, not fooled by "z. B." or "am 1. März"."""
    text = " ".join(text.split())
    for match in _SENTENCE_END.finditer(text):
        end = match.end()
        token = text[:end].rsplit(" ", 1)[-1].lower()
        previous = text[:end].rsplit(" ", 2)[-2].lower() if " " in text[:end] else ""
        if token in _ABBREVIATIONS or (previous + token) in _ABBREVIATIONS:
            continue
        if token[:-1].isdigit() or len(token) == 2:
            continue
        return text[:end][:max_chars]
    return text[:max_chars]


def _numbered_passage(content: str) -> tuple[str, str] | None:
    """(number, passage) of the first "[n]" source; the passage runs to the next marker."""
    markers = list(_SOURCE_MARKER.finditer(content))
    for index, marker in enumerate(markers):
        stop = markers[index + 1].start() if index + 1 < len(markers) else len(content)
        body = content[marker.end() : stop]
        # A blank line ends the passage, so trailing instructions are not quoted.
        body = re.split(r"\n[ \t]*\n", body.strip(), maxsplit=1)[0]
        if body.strip():
            return marker.group(1), body.lstrip(" \t:.-")
    return None


def rag_echo_responder(messages: list[dict[str, Any]], model: str) -> str:
    """Default reply: quote the first sentence of source "[n]" and cite it, like a RAG bot.

    Without numbered sources it answers from the last user message instead.
    """
    for message in messages:
        if message.get("role") not in ("system", "user", None):
            continue
        found = _numbered_passage(message_text(message))
        if found:
            number, passage = found
            return f"{first_sentence(passage)} [{number}]"
    questions = [message_text(m) for m in messages if m.get("role") == "user"]
    question = " ".join(questions[-1].split()) if questions else ""
    if not question:
        return "Hallo! Wie kann ich helfen?"
    short = question if len(question) <= 80 else question[:79] + "…"
    return f"Zu „{short}“ liegen mir keine Quellen vor."


def split_into_deltas(text: str) -> list[str]:
    """Word-sized pieces whose concatenation is exactly `text`."""
    pieces = re.findall(r"\s*\S+\s*", text)
    return pieces if "".join(pieces) == text else [text]


def fake_embedding(text: str, dim: int = DEFAULT_EMBEDDING_DIM) -> list[float]:
    """Deterministic, L2-normalised hashed bag of words: shared words give cosine > 0."""
    vector = [0.0] * dim
    tokens = re.findall(r"\w+", text.lower()) or [""]
    for token in tokens:
        digest = hashlib.blake2b(token.encode(), digest_size=8).digest()
        value = int.from_bytes(digest, "little")
        vector[value % dim] += 1.0 if (value >> 63) & 1 else -1.0
    norm = math.sqrt(sum(x * x for x in vector)) or 1.0
    return [x / norm for x in vector]


def _count_tokens(text: str) -> int:
    return len(re.findall(r"\w+|[^\w\s]", text))


# --------------------------------------------------------------------------- state


@dataclass(frozen=True)
class Faults:
    """Misbehaviour of the inference endpoints.

    With `fail_next == 0` the faults hold until `reset()`. With `fail_next == N > 0` they
    hit only the next N faultable requests and are then cleared; if no other fault is set,
    those N requests fail with HTTP 500.
    """

    delay_first_byte: float = 0.0  # stall before the status line (client read timeout)
    delay_between_chunks: float = 0.0  # pause between streamed deltas
    fail_status: int | None = None  # answer with this status and {"error": fail_message}
    fail_message: str = "simulated server failure"
    # Stream N deltas, then cut the socket without the done line; non-streamed: hang up.
    drop_after_chunks: int | None = None
    # Stream N deltas, then an {"error": ...} line like a crashed runner; non-streamed: 500.
    error_after_chunks: int | None = None
    fail_next: int = 0
    paths: frozenset[str] = FAULT_PATHS  # which endpoints the faults apply to

    def any_set(self) -> bool:
        return bool(
            self.delay_first_byte > 0
            or self.delay_between_chunks > 0
            or self.fail_status is not None
            or self.drop_after_chunks is not None
            or self.error_after_chunks is not None
        )


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server saw it; `body` is parsed JSON, raw text, or None."""

    method: str
    path: str
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    query: str = ""


class _DropConnection(Exception):
    """Raised inside a handler to close the socket without a (complete) response."""


# --------------------------------------------------------------------------- server


class FakeLLMServer:
    """Ollama-shaped HTTP server on 127.0.0.1 with controllable replies and faults."""

    def __init__(
        self,
        models: Sequence[str] = DEFAULT_MODELS,
        *,
        responder: Responder | None = None,
        embedding_dim: int = DEFAULT_EMBEDDING_DIM,
        context_length: int = DEFAULT_CONTEXT_LENGTH,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self._lock = threading.Lock()
        self._models = [_with_tag(name) for name in models]
        self._responder: Responder = responder or rag_echo_responder
        self._default_responder: Responder = self._responder
        self.embedding_dim = embedding_dim
        self.context_length = context_length
        self._host = host
        self._port = port
        self._faults = Faults()
        self._requests: list[RecordedRequest] = []
        self._connections: set[socket.socket] = set()
        self._stop_event = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._ids = itertools.count(1)

    # ---- lifecycle

    def start(self) -> Self:
        if self._httpd is not None:
            return self
        self._stop_event = threading.Event()
        httpd = _HTTPServer((self._host, self._port), _Handler)
        httpd.fake = self
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"fake-llm-{httpd.server_address[1]}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; wakes stalled handlers and cuts open connections so nothing hangs."""
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        self._stop_event.set()
        httpd.shutdown()
        httpd.server_close()
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            _hard_close(connection)
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("FakeLLMServer is not running; call start() first")
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        """Base URL, e.g. "http://127.0.0.1:54321" (append "/v1" for OpenAI clients)."""
        return f"http://{self._host}:{self.port}"

    # ---- control

    @property
    def models(self) -> list[str]:
        with self._lock:
            return list(self._models)

    @models.setter
    def models(self, names: Iterable[str]) -> None:
        with self._lock:
            self._models = [_with_tag(name) for name in names]

    @property
    def responder(self) -> Responder:
        with self._lock:
            return self._responder

    @responder.setter
    def responder(self, responder: Responder) -> None:
        with self._lock:
            self._responder = responder

    @property
    def faults(self) -> Faults:
        with self._lock:
            return self._faults

    def set_faults(self, **changes: Any) -> None:
        """Change fault settings (fields of `Faults`); unnamed settings stay as they are."""
        known = {f.name for f in fields(Faults)}
        unknown = set(changes) - known
        if unknown:
            raise TypeError(f"unknown fault setting(s): {sorted(unknown)}")
        if "paths" in changes:
            changes["paths"] = frozenset(changes["paths"])
        with self._lock:
            self._faults = replace(self._faults, **changes)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults = Faults()

    def reset(self) -> None:
        """Back to normal: no faults, the initial responder, no recorded requests."""
        with self._lock:
            self._faults = Faults()
            self._responder = self._default_responder
            self._requests.clear()

    @property
    def requests(self) -> list[RecordedRequest]:
        """Copy of all requests received so far, oldest first."""
        with self._lock:
            return list(self._requests)

    def requests_to(self, path: str, method: str | None = None) -> list[RecordedRequest]:
        return [
            r
            for r in self.requests
            if r.path == path and (method is None or r.method == method.upper())
        ]

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    # ---- used by the handler

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    def _take_faults(self, path: str) -> Faults | None:
        """Faults for this request, consuming one of `fail_next` if set."""
        with self._lock:
            faults = self._faults
            if path not in faults.paths:
                return None
            if faults.fail_next <= 0:
                return faults if faults.any_set() else None
            remaining = faults.fail_next - 1
            self._faults = (
                replace(faults, fail_next=remaining) if remaining else Faults(paths=faults.paths)
            )
        if not faults.any_set():
            faults = replace(faults, fail_status=500)
        return faults

    def _resolve_model(self, name: Any) -> str | None:
        if not isinstance(name, str) or not name:
            return None
        wanted = _with_tag(name)
        with self._lock:
            return wanted if wanted in self._models else None

    def _next_id(self) -> int:
        return next(self._ids)

    def _wait(self, seconds: float) -> None:
        """Sleep that ends early (by dropping the connection) when the server stops."""
        if seconds > 0 and self._stop_event.wait(seconds):
            raise _DropConnection
        if self._stop_event.is_set():
            raise _DropConnection


def _with_tag(name: str) -> str:
    return name if ":" in name.rsplit("/", 1)[-1] else f"{name}:latest"


def _hard_close(connection: socket.socket) -> None:
    try:
        connection.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    fake: FakeLLMServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients hanging up (timeouts, dropped streams) are expected here, not errors.
        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)


# --------------------------------------------------------------------------- handler


def _now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _durations(prompt_tokens: int, eval_tokens: int) -> dict[str, int]:
    load, prompt_ns, eval_ns = 1_500_000, prompt_tokens * 400_000, eval_tokens * 20_000_000
    return {
        "total_duration": load + prompt_ns + eval_ns,
        "load_duration": load,
        "prompt_eval_count": prompt_tokens,
        "prompt_eval_duration": prompt_ns,
        "eval_count": eval_tokens,
        "eval_duration": eval_ns,
    }


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # chunked streams, so a cut stream is detectably incomplete
    server_version = "FakeOllama/" + OLLAMA_VERSION
    timeout = 30  # idle keep-alive connections must not keep threads forever
    server: _HTTPServer

    # ---- plumbing

    @property
    def fake(self) -> FakeLLMServer:
        return self.server.fake

    def setup(self) -> None:
        super().setup()
        with self.fake._lock:
            self.fake._connections.add(self.connection)

    def finish(self) -> None:
        with self.fake._lock:
            self.fake._connections.discard(self.connection)
        try:
            super().finish()
        except OSError:
            pass

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep pytest output clean

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_HEAD(self) -> None:
        self._dispatch("HEAD")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _read_body(self) -> tuple[Any, bool]:
        """(parsed body, is_valid_json_or_empty)."""
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length > 0 else b""
        if not raw:
            return None, True
        text = raw.decode("utf-8", errors="replace")
        try:
            return json.loads(text), True
        except json.JSONDecodeError:
            return text, False

    def _dispatch(self, method: str) -> None:
        self._headers_sent = False
        split = urlsplit(self.path)
        path = split.path.rstrip("/") or "/"
        body, valid_json = self._read_body()
        self.fake._record(
            RecordedRequest(method, path, body, dict(self.headers.items()), split.query)
        )
        try:
            self._route(method, path, body if isinstance(body, dict) else {}, valid_json)
        except _DropConnection:
            self._drop()
        except OSError:
            self.close_connection = True
        except Exception as exc:  # e.g. a test's responder raised: answer like a broken server
            if self._headers_sent:
                self._drop()
            else:
                self._send_error(path, 500, f"{type(exc).__name__}: {exc}")

    def _drop(self) -> None:
        self.close_connection = True
        _hard_close(self.connection)

    def _send_bytes(self, status: int, data: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self._headers_sent = True
        if self.command != "HEAD":
            self.wfile.write(data)

    def _send_json(self, status: int, payload: Any) -> None:
        data = json.dumps(payload, ensure_ascii=False).encode()
        self._send_bytes(status, data, "application/json; charset=utf-8")

    def _send_error(self, path: str, status: int, message: str) -> None:
        if path.startswith("/v1/"):
            error_type = "invalid_request_error" if status < 500 else "api_error"
            payload: dict[str, Any] = {
                "error": {"message": message, "type": error_type, "param": None, "code": None}
            }
        else:
            payload = {"error": message}
        self._send_json(status, payload)

    def _stream(
        self,
        content_type: str,
        pieces: Iterable[bytes],
        tail: Iterable[bytes],
        faults: Faults | None,
    ) -> None:
        """Chunked response: content `pieces` (subject to faults), then `tail`."""
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self._headers_sent = True
        delay = faults.delay_between_chunks if faults else 0.0
        drop_after = faults.drop_after_chunks if faults else None
        error_after = faults.error_after_chunks if faults else None
        sent = 0
        for piece in pieces:
            if drop_after is not None and sent >= drop_after:
                raise _DropConnection
            if error_after is not None and sent >= error_after:
                break
            if sent:
                self.fake._wait(delay)
            self._write_chunk(piece)
            sent += 1
        if drop_after is not None:
            raise _DropConnection
        if error_after is not None and faults is not None:
            self._write_chunk(self._stream_error(content_type, faults.fail_message))
        else:
            for piece in tail:
                self._write_chunk(piece)
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    @staticmethod
    def _stream_error(content_type: str, message: str) -> bytes:
        if content_type.startswith("text/event-stream"):
            error = {"error": {"message": message, "type": "api_error"}}
            return f"data: {json.dumps(error)}\n\n".encode()
        return (json.dumps({"error": message}) + "\n").encode()

    def _write_chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):X}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    # ---- routing

    def _route(self, method: str, path: str, body: dict[str, Any], valid_json: bool) -> None:
        if method in ("GET", "HEAD") and path == "/":
            self._send_bytes(200, b"Ollama is running", "text/plain; charset=utf-8")
            return
        simple: dict[tuple[str, str], Callable[[], Any]] = {
            ("GET", "/api/version"): lambda: {"version": OLLAMA_VERSION},
            ("GET", "/api/tags"): self._tags,
            ("GET", "/api/ps"): lambda: {"models": []},
            ("GET", "/v1/models"): self._v1_models,
        }
        if (method, path) in simple:
            self._send_json(200, simple[(method, path)]())
            return
        if method == "GET" and path.startswith("/v1/models/"):
            self._v1_model(path.removeprefix("/v1/models/"))
            return
        handlers: dict[str, Callable[[dict[str, Any], Faults | None], None]] = {
            "/api/show": self._show,
            "/api/chat": self._chat,
            "/api/generate": self._generate,
            "/api/embed": self._embed,
            "/api/embeddings": self._embeddings_legacy,
            "/v1/chat/completions": self._v1_chat,
            "/v1/completions": self._v1_completions,
            "/v1/embeddings": self._v1_embeddings,
        }
        if method != "POST" or path not in handlers:
            self._send_bytes(404, b"404 page not found", "text/plain")
            return
        faults = self.fake._take_faults(path)
        if faults is not None:
            self.fake._wait(faults.delay_first_byte)
            if faults.fail_status is not None:
                self._send_error(path, faults.fail_status, faults.fail_message)
                return
        if not valid_json:
            self._send_error(path, 400, "invalid JSON in request body")
            return
        if not body.get("model"):
            self._send_error(path, 400, "model is required")
            return
        if self.fake._resolve_model(body["model"]) is None:
            self._send_error(path, 404, f"model '{body['model']}' not found")
            return
        handlers[path](body, faults)

    def _failed_unstreamed(self, path: str, faults: Faults | None) -> bool:
        """Apply stream faults to a one-piece reply; True if the reply was replaced."""
        if faults is None:
            return False
        if faults.drop_after_chunks is not None:
            # No chunks to cut between: the server just hangs up without answering.
            raise _DropConnection
        if faults.error_after_chunks is not None:
            self._send_error(path, 500, faults.fail_message)
            return True
        return False

    # ---- Ollama API

    def _model_entry(self, name: str) -> dict[str, Any]:
        digest = hashlib.sha256(name.encode()).hexdigest()
        return {
            "name": name,
            "model": name,
            "modified_at": "2025-09-01T10:00:00.000000Z",
            "size": 2_019_393_189 + int(digest[:6], 16),
            "digest": digest,
            "details": self._details(name),
        }

    @staticmethod
    def _is_embedding_model(name: str) -> bool:
        return any(hint in name.lower() for hint in _EMBEDDING_HINTS)

    def _details(self, name: str) -> dict[str, Any]:
        family = self._family(name)
        tag = name.rsplit(":", 1)[-1]
        size = re.fullmatch(r"(\d+(?:\.\d+)?)([bm])", tag.lower())
        parameter_size = f"{size.group(1)}{size.group(2).upper()}" if size else "3.2B"
        return {
            "parent_model": "",
            "format": "gguf",
            "family": family,
            "families": [family],
            "parameter_size": parameter_size,
            "quantization_level": "F16" if self._is_embedding_model(name) else "Q4_K_M",
        }

    def _family(self, name: str) -> str:
        if self._is_embedding_model(name):
            return "nomic-bert" if "nomic" in name else "bert"
        base = name.rsplit("/", 1)[-1].split(":", 1)[0]
        match = re.match(r"[a-z]+\d?", base.lower())
        family = match.group(0) if match else "llama"
        return "llama" if family.startswith("llama") else family

    def _tags(self) -> dict[str, Any]:
        return {"models": [self._model_entry(name) for name in self.fake.models]}

    def _show(self, body: dict[str, Any], faults: Faults | None) -> None:
        name = self.fake._resolve_model(body["model"]) or body["model"]
        family = self._family(name)
        embedding = self._is_embedding_model(name)
        model_info = {
            "general.architecture": family,
            "general.file_type": 15,
            "general.parameter_count": 3_212_749_888,
            "general.quantization_version": 2,
            f"{family}.context_length": self.fake.context_length,
            f"{family}.embedding_length": self.fake.embedding_dim if embedding else 3072,
            f"{family}.block_count": 28,
        }
        self._send_json(
            200,
            {
                "license": "fake license",
                "modelfile": f"# Modelfile generated by fake server\nFROM {name}\n",
                "parameters": 'stop                           "<|eot_id|>"',
                "template": "{{ .Prompt }}",
                "details": self._details(name),
                "model_info": model_info,
                "capabilities": ["embedding"] if embedding else ["completion", "tools"],
                "modified_at": "2025-09-01T10:00:00.000000Z",
            },
        )

    def _reply(self, messages: list[dict[str, Any]], model: str) -> tuple[str, int]:
        """(reply text, prompt token count) from the current responder."""
        text = self.fake.responder(messages, model)
        prompt_tokens = sum(_count_tokens(message_text(m)) for m in messages)
        return str(text), prompt_tokens

    def _ndjson(self, payload: dict[str, Any]) -> bytes:
        return (json.dumps(payload, ensure_ascii=False) + "\n").encode()

    def _chat(self, body: dict[str, Any], faults: Faults | None) -> None:
        model = body["model"]
        messages = [m for m in body.get("messages") or [] if isinstance(m, dict)]
        if not messages:
            # Ollama answers an empty chat by loading the model.
            self._send_json(200, self._chat_done(model, "", "load", None))
            return
        text, prompt_tokens = self._reply(messages, model)
        deltas = split_into_deltas(text)
        counters = _durations(prompt_tokens, len(deltas))
        if body.get("stream", True) is False:
            if self._failed_unstreamed("/api/chat", faults):
                return
            self._send_json(200, self._chat_done(model, text, "stop", counters))
            return
        pieces = (
            self._ndjson(
                {
                    "model": model,
                    "created_at": _now_iso(),
                    "message": {"role": "assistant", "content": delta},
                    "done": False,
                }
            )
            for delta in deltas
        )
        tail = [self._ndjson(self._chat_done(model, "", "stop", counters))]
        self._stream("application/x-ndjson", pieces, tail, faults)

    @staticmethod
    def _chat_done(
        model: str, content: str, reason: str, counters: dict[str, int] | None
    ) -> dict[str, Any]:
        return {
            "model": model,
            "created_at": _now_iso(),
            "message": {"role": "assistant", "content": content},
            "done_reason": reason,
            "done": True,
            **(counters or {}),
        }

    def _generate(self, body: dict[str, Any], faults: Faults | None) -> None:
        model = body["model"]
        messages: list[dict[str, Any]] = []
        if body.get("system"):
            messages.append({"role": "system", "content": str(body["system"])})
        messages.append({"role": "user", "content": str(body.get("prompt") or "")})
        text, prompt_tokens = self._reply(messages, model)
        deltas = split_into_deltas(text)
        counters = _durations(prompt_tokens, len(deltas))

        def done(response: str) -> dict[str, Any]:
            return {
                "model": model,
                "created_at": _now_iso(),
                "response": response,
                "done": True,
                "done_reason": "stop",
                "context": [1, 2, 3],
                **counters,
            }

        if body.get("stream", True) is False:
            if self._failed_unstreamed("/api/generate", faults):
                return
            self._send_json(200, done(text))
            return
        pieces = (
            self._ndjson(
                {"model": model, "created_at": _now_iso(), "response": delta, "done": False}
            )
            for delta in deltas
        )
        self._stream("application/x-ndjson", pieces, [self._ndjson(done(""))], faults)

    def _vectors(self, inputs: Any, dimensions: Any = None) -> tuple[list[list[float]], int]:
        texts = [inputs] if isinstance(inputs, str) else [str(t) for t in inputs or []]
        dim = dimensions if isinstance(dimensions, int) and dimensions > 0 else None
        dim = dim or self.fake.embedding_dim
        return [fake_embedding(t, dim) for t in texts], sum(_count_tokens(t) for t in texts)

    def _embed(self, body: dict[str, Any], faults: Faults | None) -> None:
        if self._failed_unstreamed("/api/embed", faults):
            return
        vectors, tokens = self._vectors(body.get("input"), body.get("dimensions"))
        self._send_json(
            200,
            {
                "model": body["model"],
                "embeddings": vectors,
                "total_duration": 14_143_917,
                "load_duration": 1_019_500,
                "prompt_eval_count": tokens,
            },
        )

    def _embeddings_legacy(self, body: dict[str, Any], faults: Faults | None) -> None:
        if self._failed_unstreamed("/api/embeddings", faults):
            return
        vectors, _ = self._vectors(str(body.get("prompt") or ""))
        self._send_json(200, {"embedding": vectors[0]})

    # ---- OpenAI-compatible API

    def _v1_models(self) -> dict[str, Any]:
        return {
            "object": "list",
            "data": [self._v1_model_entry(name) for name in self.fake.models],
        }

    @staticmethod
    def _v1_model_entry(name: str) -> dict[str, Any]:
        return {"id": name, "object": "model", "created": 1_756_720_800, "owned_by": "library"}

    def _v1_model(self, name: str) -> None:
        resolved = self.fake._resolve_model(name)
        if resolved is None:
            self._send_error("/v1/models", 404, f"model '{name}' not found")
        else:
            self._send_json(200, self._v1_model_entry(name))

    @staticmethod
    def _usage(prompt_tokens: int, completion_tokens: int) -> dict[str, int]:
        return {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        }

    @staticmethod
    def _sse(payload: dict[str, Any]) -> bytes:
        return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n".encode()

    def _wants_usage_chunk(self, body: dict[str, Any]) -> bool:
        options = body.get("stream_options")
        return isinstance(options, dict) and bool(options.get("include_usage"))

    def _v1_chat(self, body: dict[str, Any], faults: Faults | None) -> None:
        model = body["model"]
        messages = [m for m in body.get("messages") or [] if isinstance(m, dict)]
        text, prompt_tokens = self._reply(messages, model)
        deltas = split_into_deltas(text)
        usage = self._usage(prompt_tokens, len(deltas))
        completion_id = f"chatcmpl-{self.fake._next_id()}"
        created = int(time.time())
        base = {
            "id": completion_id,
            "created": created,
            "model": model,
            "system_fingerprint": "fp_ollama",
        }
        if not body.get("stream"):
            if self._failed_unstreamed("/v1/chat/completions", faults):
                return
            self._send_json(
                200,
                {
                    **base,
                    "object": "chat.completion",
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": text},
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": usage,
                },
            )
            return

        def chunk(delta: dict[str, Any], finish: str | None) -> dict[str, Any]:
            choice = {"index": 0, "delta": delta, "finish_reason": finish}
            return {**base, "object": "chat.completion.chunk", "choices": [choice]}

        pieces = (self._sse(chunk({"role": "assistant", "content": d}, None)) for d in deltas)
        tail = [self._sse(chunk({"role": "assistant", "content": ""}, "stop"))]
        if self._wants_usage_chunk(body):
            tail.append(
                self._sse(
                    {**base, "object": "chat.completion.chunk", "choices": [], "usage": usage}
                )
            )
        tail.append(b"data: [DONE]\n\n")
        self._stream("text/event-stream", pieces, tail, faults)

    def _v1_completions(self, body: dict[str, Any], faults: Faults | None) -> None:
        model = body["model"]
        prompt = body.get("prompt") or ""
        prompt = "\n".join(map(str, prompt)) if isinstance(prompt, list) else str(prompt)
        text, prompt_tokens = self._reply([{"role": "user", "content": prompt}], model)
        deltas = split_into_deltas(text)
        usage = self._usage(prompt_tokens, len(deltas))
        base = {
            "id": f"cmpl-{self.fake._next_id()}",
            "object": "text_completion",
            "created": int(time.time()),
            "model": model,
            "system_fingerprint": "fp_ollama",
        }

        def choice(piece: str, finish: str | None) -> dict[str, Any]:
            return {"text": piece, "index": 0, "logprobs": None, "finish_reason": finish}

        if not body.get("stream"):
            if self._failed_unstreamed("/v1/completions", faults):
                return
            self._send_json(200, {**base, "choices": [choice(text, "stop")], "usage": usage})
            return
        pieces = (self._sse({**base, "choices": [choice(d, None)]}) for d in deltas)
        tail = [self._sse({**base, "choices": [choice("", "stop")]})]
        if self._wants_usage_chunk(body):
            tail.append(self._sse({**base, "choices": [], "usage": usage}))
        tail.append(b"data: [DONE]\n\n")
        self._stream("text/event-stream", pieces, tail, faults)

    def _v1_embeddings(self, body: dict[str, Any], faults: Faults | None) -> None:
        if self._failed_unstreamed("/v1/embeddings", faults):
            return
        vectors, tokens = self._vectors(body.get("input"), body.get("dimensions"))
        self._send_json(
            200,
            {
                "object": "list",
                "data": [
                    {"object": "embedding", "embedding": vector, "index": index}
                    for index, vector in enumerate(vectors)
                ],
                "model": body["model"],
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            },
        )
