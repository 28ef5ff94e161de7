"""HTML to PDF (WeasyPrint) for every PDF the portal makes: the governors' figures report and
record exports. WeasyPrint would fetch any URL a document names (http, https, file); here it
reaches nothing but the portal's own static files and data: URLs, so a PDF can never call
out to the network or read a file such as the database or its key (SECURITY.md P3, P13)."""

from __future__ import annotations

import logging
import mimetypes
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

log = logging.getLogger(__name__)

STATIC_DIR = (Path(__file__).parent / "static").resolve()
# Where relative links such as "/static/..." resolve when the caller names no base: an
# address that can never exist (RFC 2606), served from disk by the fetcher and never fetched.
DEFAULT_BASE_URL = "https://portal.invalid/"


class RefusedURL(ValueError):
    """A document named a resource outside the portal's static files; nothing was fetched."""


class StaticOnlyFetcher(URLFetcher):
    """Serves data: URLs and files under portal/static/ (as /static/... on the base URL's own
    origin), read from disk; refuses every other URL before anything is opened."""

    def __init__(self, base_url: str) -> None:
        # Only data: ever reaches urllib's opener (super().fetch); no redirects to follow.
        super().__init__(allowed_protocols={"data"}, allow_redirects=False)
        base = urlsplit(base_url)
        self._origin = (base.scheme.lower(), base.netloc.lower())

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        """The resource at ``url``, or RefusedURL for anything not ours."""
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme == "data":
            return super().fetch(url, headers)
        if (scheme, parts.netloc.lower()) == self._origin:
            path = self._static_file(unquote(parts.path))
            if path is not None:
                mime, _ = mimetypes.guess_type(path.name)
                return URLFetcherResponse(
                    url, path.read_bytes(), {"Content-Type": mime or "application/octet-stream"}
                )
        log.warning("pdf: refused to fetch a %s: URL (only /static/ and data: are served)",
                    scheme or "relative")
        raise RefusedURL(f"not a portal static file: {url[:80]}")

    @staticmethod
    def _static_file(path: str) -> Path | None:
        """The file under STATIC_DIR that ``/static/<name>`` names, or None (also for
        ``..``, links and anything that resolves outside the folder)."""
        if not path.startswith("/static/") or "\x00" in path:
            return None
        candidate = (STATIC_DIR / path.removeprefix("/static/")).resolve()
        if not candidate.is_relative_to(STATIC_DIR) or not candidate.is_file():
            return None
        return candidate


def render_pdf(html: str, *, base_url: str | None = None) -> bytes:
    """The PDF of ``html`` (already rendered and escaped by Jinja); relative links resolve
    against ``base_url`` (the portal's own address), and only its /static/ files are read."""
    base = base_url or DEFAULT_BASE_URL
    document = HTML(string=html, base_url=base, url_fetcher=StaticOnlyFetcher(base))
    return document.write_pdf()
