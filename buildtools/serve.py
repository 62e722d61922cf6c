"""Serving dist/ over HTTP for `build.py serve`, the tests and the benchmarks.

The right MIME types (.wasm, .mjs, .webmanifest, ...) and caching headers: versioned vendor
folders and content-hashed data files are immutable; the app shell, the service worker and
lock files always revalidate. A file with a precompressed sibling (`x.wasm.br`, `x.wasm.gz`,
written by build.py) is sent as that sibling when the request's Accept-Encoding allows it,
with Content-Encoding, the original's Content-Type and `Vary: Accept-Encoding` (sent with the
uncompressed file too, so a shared cache keeps the two apart). Every response carries
``SECURITY_HEADERS``: the page is cross-origin isolated, as Chromium asks of a page that sets
up SharedArrayBuffer (Pyodide does). A static host must send the same: ``headers_file()`` is
what build.py writes as dist/_headers (Netlify, Cloudflare Pages). Standard library only.
"""

from __future__ import annotations

import email.utils
import http.server
import os
from http import HTTPStatus
from pathlib import Path

# Preferred first: what build.py writes beside a file, as {encoding: suffix}.
ENCODINGS = {"br": ".br", "gzip": ".gz"}


def accepted_encodings(header: str | None) -> set[str]:
    """The content codings an Accept-Encoding header allows (q=0 refuses; `*` allows any
    not named)."""
    allowed: set[str] = set()
    refused: set[str] = set()
    star = False
    for item in (header or "").split(","):
        name, _, params = item.strip().partition(";")
        name = name.strip().lower()
        if not name:
            continue
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if name == "*":
            star = q > 0
        elif q > 0:
            allowed.add(name)
        else:
            refused.add(name)
    if star:
        allowed |= set(ENCODINGS) - refused
    return allowed


# Cross-origin isolation (COOP + COEP). Everything the app loads (Pyodide, its wasm, the
# wheels, fonts, the warm-start worker, the service worker) is of its own origin, which
# require-corp always allows; a file from any other origin would need CORS or
# Cross-Origin-Resource-Policy, and the tests refuse every request that leaves the origin.
SECURITY_HEADERS = {
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Embedder-Policy": "require-corp",
    "X-Content-Type-Options": "nosniff",
}
IMMUTABLE = "public, max-age=31536000, immutable"


def headers_file() -> str:
    """dist/_headers: the same headers for Netlify and Cloudflare Pages (one syntax)."""
    lines = [
        "# Sent with every file: cross-origin isolation (COOP + COEP), which Chromium asks of a",
        "# page that sets up SharedArrayBuffer (Pyodide does). Written by build.py.",
        "/*",
        *(f"  {name}: {value}" for name, value in SECURITY_HEADERS.items()),
        "# Content-hashed data files never change.",
        "/data/*",
        f"  Cache-Control: {IMMUTABLE}",
    ]
    return "\n".join(lines) + "\n"


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

    def send_head(self):
        """As SimpleHTTPRequestHandler, but a precompressed sibling is sent when accepted."""
        self._vary = False
        path = Path(self.translate_path(self.path))
        if self.path.endswith("/") or not path.is_file():
            return super().send_head()
        siblings = {
            encoding: path.with_name(path.name + suffix)
            for encoding, suffix in ENCODINGS.items()
            if path.with_name(path.name + suffix).is_file()
        }
        if not siblings:
            return super().send_head()
        self._vary = True
        accepted = accepted_encodings(self.headers.get("Accept-Encoding"))
        encoding = next((e for e in siblings if e in accepted), None)
        if encoding is None:
            return super().send_head()
        sibling = siblings[encoding]
        stat = sibling.stat()
        since = self.headers.get("If-Modified-Since")
        if since and not self.headers.get("If-None-Match"):
            try:
                when = email.utils.parsedate_to_datetime(since)
            except (TypeError, ValueError, IndexError, OverflowError):
                when = None
            if when is not None and int(stat.st_mtime) <= when.timestamp():
                self.send_response(HTTPStatus.NOT_MODIFIED)
                self.end_headers()
                return None
        handle = sibling.open("rb")
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Encoding", encoding)
        self.send_header("Content-Length", str(stat.st_size))
        self.send_header("Last-Modified", self.date_time_string(int(stat.st_mtime)))
        self.end_headers()
        return handle

    def end_headers(self) -> None:
        if getattr(self, "_vary", False):
            self.send_header("Vary", "Accept-Encoding")
        path = self.path.split("?", 1)[0]
        if path.startswith("/vendor/") and not path.endswith(".json"):
            # Versioned paths (name-version/) and content-hashed wheels never change.
            self.send_header("Cache-Control", IMMUTABLE)
        elif path.startswith("/data/"):
            self.send_header("Cache-Control", IMMUTABLE)
        else:
            # The app shell, service worker and lock: always revalidate.
            self.send_header("Cache-Control", "no-cache")
        for name, value in SECURITY_HEADERS.items():
            self.send_header(name, value)
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
