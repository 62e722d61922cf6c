"""Serving dist/ over HTTP for `build.py serve`, the tests and the benchmarks.

The right MIME types (.wasm, .mjs, .webmanifest, ...) and caching headers: versioned vendor
folders and content-hashed data files are immutable; the app shell, the service worker and
lock files always revalidate. Standard library only.
"""

from __future__ import annotations

import http.server
import os
from pathlib import Path

MIME_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".webmanifest": "application/manifest+json",
    ".wasm": "application/wasm",
    ".whl": "application/zip",
    ".zip": "application/zip",
    ".gz": "application/gzip",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".py": "text/plain; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".ico": "image/x-icon",
}


class Handler(http.server.SimpleHTTPRequestHandler):
    """Serves the folder `folder()` returns (read per request); subclasses say which."""

    # A class attribute (typeshed declares an instance one, so no ClassVar here).
    extensions_map = {  # noqa: RUF012
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        **MIME_TYPES,
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, directory=str(self.folder()), **kwargs)

    def folder(self) -> Path:
        raise NotImplementedError

    def end_headers(self) -> None:
        path = self.path.split("?", 1)[0]
        if path.startswith("/vendor/") and not path.endswith(".json"):
            # Versioned paths (name-version/) and content-hashed wheels never change.
            self.send_header("Cache-Control", "public, max-age=31536000, immutable")
        elif path.startswith("/data/"):
            self.send_header("Cache-Control", "public, max-age=31536000, immutable")
        else:
            # The app shell, service worker and lock: always revalidate.
            self.send_header("Cache-Control", "no-cache")
        self.send_header("X-Content-Type-Options", "nosniff")
        super().end_headers()

    def log_message(self, format: str, *args) -> None:
        if os.environ.get("MEDEX_SERVE_LOG"):
            super().log_message(format, *args)


def handler_for(dist: Path) -> type[Handler]:
    """A Handler class serving one fixed folder."""

    class FolderHandler(Handler):
        def folder(self) -> Path:
            return dist

    return FolderHandler


def serve(handler: type[Handler], port: int, host: str = "127.0.0.1") -> None:
    """Serve until Ctrl+C."""
    server = http.server.ThreadingHTTPServer((host, port), handler)
    print(
        f"MedEx Practice is served at http://{host}:{server.server_address[1]}/  (Ctrl+C to stop)",
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
