"""A CKAN stand-in on 127.0.0.1 answering the action API in the shapes of the CKAN docs
(https://docs.ckan.org/en/latest/api/): {"help": ..., "success": true, "result": ...};
errors {"help": ..., "success": false, "error": {"__type": "Not Found Error", "message": ...}}
with the matching HTTP status; package_search with count/results and rows/start paging.

Faults a test can switch on: `search_fault` ("invalid_json" or "500") for package_search,
`show_faults` {dataset name: "invalid_json" | "500" | "not_found"}; resources are served from
`files` (path -> (bytes, content type, streamed)).
"""

from __future__ import annotations

import json
import re
import threading
from copy import deepcopy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

HELP = "http://127.0.0.1/api/3/action/help_show?name="


class CkanServer:
    def __init__(self) -> None:
        self.datasets: dict[str, dict[str, Any]] = {}
        self.organizations: list[str] = []
        self.files: dict[str, tuple[bytes, str, bool]] = {}
        self.search_fault: str | None = None
        self.show_faults: dict[str, str] = {}
        self.requests: list[str] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def log_message(self, *_: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                server._handle(self)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> CkanServer:
        self._thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def add_dataset(self, name: str, title: str, organization: str, tags: list[str],
                    modified: str, notes: str = "", resources: list[dict[str, Any]] = ()
                    ) -> dict[str, Any]:  # type: ignore[assignment]
        if organization not in self.organizations:
            self.organizations.append(organization)
        dataset = {
            "id": f"id-{name}", "name": name, "title": title, "notes": notes,
            "state": "active", "private": False, "metadata_modified": modified,
            "license_id": "dl-de-by-2.0", "license_title": "Datenlizenz Deutschland – "
                                                           "Namensnennung – Version 2.0",
            "organization": {"name": organization, "title": organization.capitalize()},
            "tags": [{"name": t, "display_name": t} for t in tags],
            "resources": [{"id": f"res-{name}-{i}", **r} for i, r in enumerate(resources)],
        }
        self.datasets[name] = dataset
        return dataset

    def calls(self, action: str) -> list[str]:
        with self._lock:
            return [r for r in self.requests if f"/api/3/action/{action}" in r]

    # -- serving -----------------------------------------------------------------------
    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        with self._lock:
            self.requests.append(handler.path)
        parts = urlsplit(handler.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if parts.path in self.files:
            body, content_type, streamed = self.files[parts.path]
            self._raw(handler, 200, body, content_type, streamed)
            return
        match = re.fullmatch(r"/api/3/action/(\w+)", parts.path)
        if not match:
            self._raw(handler, 404, b"<h1>Not Found</h1>", "text/html")
            return
        action = match.group(1)
        if action == "organization_list":
            self._ok(handler, action, list(self.organizations))
        elif action == "package_search":
            self._search(handler, query)
        elif action == "package_show":
            self._show(handler, query.get("id", ""))
        else:
            self._error(handler, action, 400, "Bad request", f"Action name not known: {action}")

    def _search(self, handler: BaseHTTPRequestHandler, query: dict[str, str]) -> None:
        if self.search_fault == "invalid_json":
            self._raw(handler, 200, b'{"help": "x", "success": tr', "application/json")
            return
        if self.search_fault == "500":
            self._raw(handler, 500, b"Internal Server Error", "text/plain")
            return
        found = sorted(self.datasets.values(), key=lambda d: d["name"])
        for clause in filter(None, query.get("fq", "").split(" AND ")):
            field, _, value = clause.partition(":")
            value = value.strip('"')
            if field == "organization":
                found = [d for d in found if d["organization"]["name"] == value]
            elif field == "tags":
                found = [d for d in found if value in [t["name"] for t in d["tags"]]]
        start, rows = int(query.get("start", 0)), int(query.get("rows", 10))
        page = [deepcopy(d) for d in found[start:start + rows]]
        self._ok(handler, "package_search", {"count": len(found), "sort": query.get("sort"),
                                             "facets": {}, "search_facets": {},
                                             "results": page})

    def _show(self, handler: BaseHTTPRequestHandler, key: str) -> None:
        dataset = self.datasets.get(key) or next(
            (d for d in self.datasets.values() if d["id"] == key), None)
        fault = self.show_faults.get(key)
        if fault == "invalid_json":
            self._raw(handler, 200, b"<html>Wartungsarbeiten</html>", "text/html")
        elif fault == "500":
            self._raw(handler, 500, b"Internal Server Error", "text/plain")
        elif dataset is None or fault == "not_found":
            self._error(handler, "package_show", 404, "Not Found Error", "Not found")
        else:
            self._ok(handler, "package_show", deepcopy(dataset))

    def _ok(self, handler: BaseHTTPRequestHandler, action: str, result: Any) -> None:
        body = json.dumps({"help": HELP + action, "success": True, "result": result})
        self._raw(handler, 200, body.encode(), "application/json;charset=utf-8")

    def _error(self, handler: BaseHTTPRequestHandler, action: str, status: int, kind: str,
               message: str) -> None:
        body = json.dumps({"help": HELP + action, "success": False,
                           "error": {"__type": kind, "message": message}})
        self._raw(handler, status, body.encode(), "application/json;charset=utf-8")

    @staticmethod
    def _raw(handler: BaseHTTPRequestHandler, status: int, body: bytes, content_type: str,
             streamed: bool = False) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        if not streamed:
            handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        try:
            for start in range(0, len(body), 64 * 1024):
                handler.wfile.write(body[start:start + 64 * 1024])
        except (BrokenPipeError, ConnectionResetError):
            pass
