"""What a PDF says, for tests that assert on the portal's PDFs (portal/pdf.py): its text as
pypdf extracts it, page after page, and its number of pages."""

from __future__ import annotations

import io

from pypdf import PdfReader


def pdf_text(data: bytes) -> str:
    """The text of every page of the PDF ``data``, pages joined by a form feed."""
    reader = PdfReader(io.BytesIO(data))
    return "\f".join(page.extract_text() or "" for page in reader.pages)


def pdf_page_texts(data: bytes) -> list[str]:
    """The text of each page of the PDF ``data``, in order."""
    return pdf_text(data).split("\f")


def pdf_pages(data: bytes) -> int:
    """How many pages the PDF ``data`` has."""
    return len(PdfReader(io.BytesIO(data)).pages)
