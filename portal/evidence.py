"""Evidence files: checked by their bytes, images rebuilt from pixels, hashed, kept safely.

Cyber-bullying policy 4.3 and 5.3: "Secure and preserve any evidence including URLs,
Screenshots and Printouts". A photo from a phone carries GPS coordinates, the phone's make
and sometimes a comment; a rebuilt image keeps only the pixels.
"""

from __future__ import annotations

import hashlib
import io
import os
import uuid
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from PIL import Image, ImageOps, UnidentifiedImageError

from . import crypto

MB = 1024 * 1024
MAX_FILES = 5
MAX_FILE_BYTES = 10 * MB
MAX_TOTAL_BYTES = 20 * MB
MAX_PIXELS = 40_000_000  # e.g. 8000 × 5000; anything larger is refused before decoding
# The hard cap on a report form's body, checked from Content-Length before any of it is read:
# room for five files each at the per-file limit plus the form's text. Every body under it is
# read (files go to temporary files, not memory) and answered file by file, with the words
# kept; only a body over it is refused whole.
MAX_REQUEST_BYTES = MAX_FILES * MAX_FILE_BYTES + MB

IMAGE_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp",
              "application/pdf": "pdf"}


class EvidenceRefused(ValueError):
    """A file that can't be kept, with the reason in plain words."""


@dataclass(frozen=True)
class CleanFile:
    content_type: str
    data: bytes
    size_received: int
    sha256_received: str
    sha256_kept: str
    treatment: str


def sniff(data: bytes) -> str | None:
    """The file's real type from its first bytes; the name and the browser's word don't count."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    return None


def _rebuild(data: bytes, label: str) -> tuple[bytes, str]:
    """Decode an image and encode only its pixels: no EXIF, XMP, ICC, comments or text."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise EvidenceRefused(f"{label} is too large a picture ({width} × {height} "
                                      "pixels). Please send a smaller screenshot.")
            fmt = image.format or ""
            if fmt not in IMAGE_TYPES:
                raise EvidenceRefused(f"{label} is not a picture we can keep.")
            image.seek(0)
            image.load()
            # Honour the camera's rotation before its EXIF (which says how) is dropped.
            image = ImageOps.exif_transpose(image) or image
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise EvidenceRefused(f"{label} is too large a picture. Please send a smaller "
                              "screenshot.") from error
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        if isinstance(error, EvidenceRefused):
            raise
        raise EvidenceRefused(f"{label} looks damaged, so we could not keep it.") from error
    mode = image.mode
    if fmt == "JPEG":
        mode = "L" if mode in ("L", "1") else "RGB"
    elif mode not in ("RGB", "RGBA", "L", "LA"):
        mode = "RGBA" if "A" in image.getbands() or "transparency" in image.info else "RGB"
    pixels = image.convert(mode)
    # A new image made from the raw pixels carries no info dict at all (Pillow keeps the
    # JPEG comment in info["comment"] on a plain re-save).
    fresh = Image.frombytes(mode, pixels.size, pixels.tobytes())
    out = io.BytesIO()
    if fmt == "JPEG":
        fresh.save(out, "JPEG", quality=90, optimize=True)
    elif fmt == "WEBP":
        fresh.save(out, "WEBP", quality=90)
    else:
        fresh.save(out, "PNG", optimize=True)
    return out.getvalue(), IMAGE_TYPES[fmt]


def clean(data: bytes, label: str) -> CleanFile:
    """Check one file and make the copy that is kept."""
    if not data:
        raise EvidenceRefused(f"{label} is empty.")
    if len(data) > MAX_FILE_BYTES:
        raise EvidenceRefused(f"{label} is bigger than {MAX_FILE_BYTES // MB} MB, so we could "
                              "not keep it.")
    kind = sniff(data)
    received = hashlib.sha256(data).hexdigest()
    if kind is None:
        raise EvidenceRefused(f"{label} is not a picture (JPEG, PNG or WebP) or a PDF, so we "
                              "could not keep it.")
    if kind == "application/pdf":
        return CleanFile(kind, data, len(data), received, received, "kept as sent")
    kept, content_type = _rebuild(data, label)
    return CleanFile(content_type, kept, len(data), received, hashlib.sha256(kept).hexdigest(),
                     "picture rebuilt from its pixels; hidden details removed")


def _size(item: bytes | BinaryIO) -> int:
    if isinstance(item, bytes | bytearray):
        return len(item)
    item.seek(0, io.SEEK_END)
    size = item.tell()
    item.seek(0)
    return size


def check_sizes(sizes: list[tuple[str, int]]) -> None:
    """Refuse, naming them, files over the per-file limit, more than MAX_FILES files or more
    than MAX_TOTAL_BYTES in all: from the sizes alone, before any file is read."""
    too_big = [label for label, size in sizes if size > MAX_FILE_BYTES]
    if too_big:
        raise EvidenceRefused(f"{' and '.join(too_big)} "
                              f"{'is' if len(too_big) == 1 else 'are'} bigger than "
                              f"{MAX_FILE_BYTES // MB} MB, so we could not keep "
                              f"{'it' if len(too_big) == 1 else 'them'}.")
    if len(sizes) > MAX_FILES:
        raise EvidenceRefused(f"Please send at most {MAX_FILES} files.")
    if sum(size for _label, size in sizes) > MAX_TOTAL_BYTES:
        raise EvidenceRefused(f"The files add up to more than {MAX_TOTAL_BYTES // MB} MB. "
                              "Please send fewer.")


def clean_all(files: list[tuple[str, bytes | BinaryIO]]) -> list[CleanFile]:
    """Check every file of a report (its bytes, or an open file such as an upload's temporary
    file); the first problem refuses them all, with its reason. Sizes are checked before any
    file is read, and files are read one at a time."""
    sized = [(label, item, _size(item)) for label, item in files]
    chosen = [(label, item, size) for label, item, size in sized if size]
    check_sizes([(label, size) for label, _item, size in chosen])
    kept = []
    for label, item, _size_ in chosen:
        data = item if isinstance(item, bytes | bytearray) else item.read(MAX_FILE_BYTES + 1)
        kept.append(clean(bytes(data), label))
    return kept


def new_name(content_type: str) -> str:
    """A server-made file name: nothing the sender chose reaches the disk."""
    return f"{uuid.uuid4().hex}.{EXTENSIONS[content_type]}"


def write(folder: Path, name: str, data: bytes) -> Path:
    """Write a kept file, encrypted at rest (owner-only), and return its path."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / name
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(crypto.encrypt_file(data))
    return path


def read(path: Path) -> bytes:
    """A kept file's content, decrypted (raises crypto.TamperedData if it was changed)."""
    return crypto.decrypt_file(path.read_bytes())


def remove(paths: list[Path]) -> None:
    """Delete files written for a report that was then not stored (no orphans)."""
    for path in paths:
        path.unlink(missing_ok=True)
