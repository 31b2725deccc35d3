"""WeasyPrint rendering with a URL fetcher that serves only the app's own static files."""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

BASE_URL = "https://report.invalid/"
STATIC_PREFIX = "/static/"


class FetchRefused(ValueError):
    """A report tried to load something outside the app's static folder."""


class StaticOnlyFetcher(URLFetcher):
    """Resolves only https://report.invalid/static/... inside the static folder: no network, no file: URLs."""

    def __init__(self, static_dir: str | Path) -> None:
        super().__init__(allowed_protocols=["https"])
        self.root = Path(static_dir).resolve()

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        parts = urlsplit(url)
        if f"{parts.scheme}://{parts.netloc}/" != BASE_URL or not parts.path.startswith(STATIC_PREFIX):
            raise FetchRefused(f"report may not load {url!r}")
        target = (self.root / unquote(parts.path[len(STATIC_PREFIX):])).resolve()
        if self.root not in target.parents or not target.is_file():
            raise FetchRefused(f"report may not load {url!r}")
        mime, _ = mimetypes.guess_type(target.name)
        return URLFetcherResponse(url, target.read_bytes(),
                                  {"Content-Type": mime or "application/octet-stream"})


def render_pdf(html: str, static_dir: str | Path) -> bytes:
    """HTML (already escaped by Jinja) to a tagged PDF."""
    doc = HTML(string=html, base_url=BASE_URL, url_fetcher=StaticOnlyFetcher(static_dir))
    return doc.write_pdf(pdf_tags=True)  # type: ignore[no-any-return]
