"""A PDF reaches nothing but the portal's own static files and data: URLs: no request leaves
for the network (a real loopback server counts them) and no local file is embedded, whatever
the HTML names (portal/pdf.py)."""

from __future__ import annotations

import re
import threading
import urllib.request
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BytesIO
from pathlib import Path

import pytest
from pypdf import PdfReader

from portal.pdf import DEFAULT_BASE_URL, STATIC_DIR, RefusedURL, StaticOnlyFetcher, render_pdf
from tests.pdf_text import pdf_text

MARKER = "LOCAL-FILE-MARKER-7f3a"
PNG_1PX = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQ"
    "DwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


class _Counter(BaseHTTPRequestHandler):
    hits: list[str]

    def do_GET(self) -> None:  # http.server calls it by this name
        self.hits.append(self.path)
        body = b"body{color:red}" if self.path.endswith(".css") else MARKER.encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the test reads the hits, not the log."""


@pytest.fixture
def loopback() -> Iterator[tuple[str, list[str]]]:
    """A real HTTP server on 127.0.0.1 that records every path asked of it."""
    hits: list[str] = []
    handler = type("Handler", (_Counter,), {"hits": hits})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", hits
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def every_reference(url: str) -> str:
    """HTML naming ``url`` in every place WeasyPrint would fetch from."""
    return f"""<!doctype html><html><head>
<link rel="stylesheet" href="{url}/style.css">
<link rel="attachment" href="{url}/attached.txt" title="attached">
<style>
  @import url("{url}/imported.css");
  @font-face {{ font-family: Remote; src: url("{url}/font.woff2"); }}
  body {{ font-family: Remote; background: url("{url}/background.png"); }}
  li {{ list-style-image: url("{url}/bullet.png"); }}
</style></head><body>
<p>Visible text</p>
<img src="{url}/image.png" alt="">
<object data="{url}/object.svg" type="image/svg+xml"></object>
<embed src="{url}/embed.svg" type="image/svg+xml">
<svg width="10" height="10"><image href="{url}/svg-image.png" width="10" height="10"/></svg>
<ul><li>item</li></ul>
</body></html>"""


def everything_in(data: bytes) -> bytes:
    """The PDF's bytes with every compressed stream inflated (text, fonts, attachments)."""
    out = [data]
    for match in re.finditer(rb"stream\r?\n(.*?)endstream", data, re.S):
        try:
            out.append(zlib.decompress(match.group(1)))
        except zlib.error:
            out.append(match.group(1))
    return b"\n".join(out)


def test_the_loopback_server_counts_a_real_request(loopback):
    url, hits = loopback
    with urllib.request.urlopen(f"{url}/probe", timeout=5) as response:
        assert response.read() == MARKER.encode()
    assert hits == ["/probe"]


def test_a_pdf_makes_no_request_to_the_network(loopback):
    url, hits = loopback
    data = render_pdf(every_reference(url))
    assert "Visible text" in pdf_text(data)
    assert hits == []
    assert MARKER.encode() not in everything_in(data)


def test_the_portal_own_origin_is_read_from_disk_never_fetched(loopback):
    """Even with the base URL on the server's origin, /static/ comes from the folder and
    anything else on that origin is refused: the server still sees nothing."""
    url, hits = loopback
    html = every_reference("") + '<img src="/static/favicon.svg" alt="">'
    data = render_pdf(html, base_url=f"{url}/")
    assert "Visible text" in pdf_text(data)
    assert hits == []


def test_a_local_file_is_never_embedded(tmp_path: Path):
    secret = tmp_path / "secret.txt"
    secret.write_text(f"{MARKER}\nroot:x:0:0:root:/root:/bin/bash\n")
    html = every_reference(secret.as_uri().removesuffix("/secret.txt")).replace(
        "/attached.txt", "/secret.txt"
    ) + '<img src="file:///etc/passwd"><link rel="attachment" href="file:///etc/passwd">'
    data = render_pdf(html)
    inflated = everything_in(data)
    assert MARKER.encode() not in inflated
    assert b"root:x:0:0" not in inflated
    assert PdfReader(BytesIO(data)).attachments == {}


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/x.png",
        "https://example.com/static/favicon.svg",  # another origin, the same path
        "http://portal.invalid/static/favicon.svg",  # our host, another scheme
        "file:///etc/passwd",
        (STATIC_DIR / "favicon.svg").as_uri(),  # our own file, but as file:
        "https://portal.invalid/pdf.py",
        "https://portal.invalid/static/",
        "https://portal.invalid/static/../pdf.py",
        "https://portal.invalid/static/%2e%2e/pdf.py",
        "https://portal.invalid/static/..%2fconfig.py",
        "https://portal.invalid/static/%00favicon.svg",
        "ftp://127.0.0.1/x",
        "javascript:alert(1)",
    ],
)
def test_the_fetcher_refuses_anything_but_static_and_data(url: str):
    with pytest.raises(RefusedURL):
        StaticOnlyFetcher(DEFAULT_BASE_URL).fetch(url)


def test_the_fetcher_serves_static_files_and_data_urls():
    fetcher = StaticOnlyFetcher(DEFAULT_BASE_URL)
    css = fetcher.fetch(f"{DEFAULT_BASE_URL}static/css/portal.css")
    assert css.read() == (STATIC_DIR / "css" / "portal.css").read_bytes()
    assert css.content_type == "text/css"
    png = fetcher.fetch(PNG_1PX)
    assert png.read().startswith(b"\x89PNG")
