"""Evidence files: checked by their bytes, images rebuilt from pixels, hashed, kept safely.

Cyber-bullying policy 4.3 and 5.3: "Secure and preserve any evidence including URLs,
Screenshots and Printouts". A photo from a phone carries GPS coordinates, the phone's make
and sometimes a comment; a rebuilt image keeps only the pixels.
"""

from __future__ import annotations

import fcntl
import hashlib
import io
import os
import threading
import time
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from PIL import Image, ImageOps, UnidentifiedImageError
from pypdf import PdfReader, PdfWriter
from pypdf.errors import PdfReadError
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

from . import crypto

MB = 1024 * 1024
MAX_FILES = 5
MAX_FILE_BYTES = 10 * MB
MAX_TOTAL_BYTES = 20 * MB
# Decoding is what costs memory (Pillow holds 4 bytes a pixel), so pixels are bounded three
# ways. Per file: a PNG or WebP is decoded whole, so one over MAX_DECODE_PIXELS is refused
# from its header; a JPEG is decoded straight at 1/2, 1/4 or 1/8 size (libjpeg's DCT scaling,
# Pillow's draft()) when whole it would be over, and kept at that size. Per report: all its
# pictures together decode to at most MAX_REQUEST_PIXELS, checked from the headers first. At
# once: at most DECODE_SLOTS pictures are decoded in a process, and on the whole machine once
# share_decode_slots() is called (create_app does); the others wait their turn.
MAX_DECODE_PIXELS = 2**24  # 16.8 MP: a 12 MP phone photo whole, 4096², a 1080 × 15000 screenshot
MAX_JPEG_PIXELS = Image.MAX_IMAGE_PIXELS or 89_478_485  # header limit: a 50 MP photo, at 1/2
MAX_REQUEST_PIXELS = 4 * MAX_DECODE_PIXELS  # five 12 MP photos whole
DECODE_SLOTS = 2
DECODE_WAIT_SECONDS = 20
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
    pixels_decoded: int = 0


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


_decoding = threading.BoundedSemaphore(DECODE_SLOTS)
_shared: dict[str, Path | float] = {}


def share_decode_slots(folder: Path, wait: float = DECODE_WAIT_SECONDS) -> None:
    """Count DECODE_SLOTS for every process using ``folder`` (gunicorn's workers on one
    machine, with one instance directory), not for each process alone: a decode also holds
    an exclusive lock on one of DECODE_SLOTS files there."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    _shared.update(folder=folder, wait=wait)


def _lock_shared_slot(deadline: float) -> int | None:
    """An open, exclusively locked slot file (its descriptor), or None by ``deadline``. Each
    try opens the file anew: flock() is held per open file, so two threads of one process
    can't share a slot."""
    folder = _shared["folder"]
    assert isinstance(folder, Path)
    while True:
        for number in range(DECODE_SLOTS):
            try:
                fd = os.open(folder / f"slot-{number}", os.O_RDWR | os.O_CREAT, 0o600)
            except OSError:  # the folder has gone: this process's own slots still hold
                return -1
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            return fd
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.05)


@contextmanager
def _decode_slot(label: str) -> Iterator[None]:
    """One of the DECODE_SLOTS (this process's, and the machine's when shared), waiting a
    while for it if all are in use."""
    busy = EvidenceRefused(f"We are very busy just now, so we could not open {label}. "
                           "Please send it again in a minute.")
    wait = float(_shared.get("wait", DECODE_WAIT_SECONDS))  # type: ignore[arg-type]
    deadline = time.monotonic() + wait
    if not _decoding.acquire(timeout=wait):
        raise busy
    fd = None
    try:
        if _shared:
            fd = _lock_shared_slot(deadline)
            if fd is None:
                raise busy
        yield
    finally:
        if fd is not None and fd >= 0:
            os.close(fd)  # closing the file releases its lock
        _decoding.release()


def _draft_scale(width: int, height: int, budget: int) -> int | None:
    """The smallest JPEG scale-down (1, 2, 4 or 8) that decodes within ``budget`` pixels."""
    for scale in (1, 2, 4, 8):
        if -(-width // scale) * -(-height // scale) <= budget:
            return scale
    return None


def _too_large(label: str, width: int, height: int) -> EvidenceRefused:
    return EvidenceRefused(f"{label} is too large a picture ({width} × {height} pixels). "
                           "Please send a smaller screenshot.")


def _rebuild(data: bytes, label: str, budget: int = MAX_DECODE_PIXELS) -> tuple[bytes, str, int]:
    """Decode an image and encode only its pixels: no EXIF, XMP, ICC, comments or text.
    At most ``budget`` pixels are decoded; returns the new file, its type and the pixels
    decoded."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            fmt = image.format or ""
            if fmt not in IMAGE_TYPES:
                raise EvidenceRefused(f"{label} is not a picture we can keep.")
            width, height = image.size
            if width * height > (MAX_JPEG_PIXELS if fmt == "JPEG" else MAX_DECODE_PIXELS):
                raise _too_large(label, width, height)
            if fmt == "JPEG":
                scale = _draft_scale(width, height, min(budget, MAX_DECODE_PIXELS))
                if scale is None:
                    raise _too_many(label)
                if scale > 1:
                    image.draft(None, (width // scale, height // scale))
            decoded = image.size[0] * image.size[1]
            if decoded > budget:
                raise _too_many(label)
            with _decode_slot(label):
                kept = _encode(image, fmt)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise EvidenceRefused(f"{label} is too large a picture. Please send a smaller "
                              "screenshot.") from error
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        if isinstance(error, EvidenceRefused):
            raise
        raise EvidenceRefused(f"{label} looks damaged, so we could not keep it.") from error
    return kept, IMAGE_TYPES[fmt], decoded


def _planned_pixels(data: bytes) -> int:
    """How many pixels the picture in ``data`` will be decoded to, read from its header
    alone; 0 for anything that isn't a picture that can be kept (clean() says why)."""
    if sniff(data) not in IMAGE_TYPES.values():
        return 0
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                width, height, fmt = image.size[0], image.size[1], image.format
    except Exception:  # noqa: BLE001 - clean() gives the reason in plain words
        return 0
    if fmt == "JPEG" and width * height <= MAX_JPEG_PIXELS:
        scale = _draft_scale(width, height, MAX_DECODE_PIXELS) or 0
        return -(-width // scale) * -(-height // scale) if scale else 0
    return width * height if width * height <= MAX_DECODE_PIXELS else 0


def _too_many(label: str) -> EvidenceRefused:
    return EvidenceRefused(f"There are too many big pictures to open in one report, so we "
                           f"could not keep {label}. Please send fewer pictures, or send "
                           "the others in another report.")


def _encode(image: Image.Image, fmt: str) -> bytes:
    """Decode (already drafted), turn upright, and write the pixels alone, holding as few
    copies of them as it can."""
    image.seek(0)
    image.load()
    # Honour the camera's rotation before its EXIF (which says how) is dropped.
    ImageOps.exif_transpose(image, in_place=True)
    mode = image.mode
    if fmt == "JPEG":
        mode = "L" if mode in ("L", "1") else "RGB"
    elif mode not in ("RGB", "RGBA", "L", "LA"):
        mode = "RGBA" if "A" in image.getbands() or "transparency" in image.info else "RGB"
    if image.mode != mode:
        image = image.convert(mode)
    # Nothing of the file but its pixels: Pillow would write info's comment (JPEG) and ICC
    # profile (PNG) back on save.
    image.info = {}
    out = io.BytesIO()
    if fmt == "JPEG":
        image.save(out, "JPEG", quality=90)
    elif fmt == "WEBP":
        image.save(out, "WEBP", quality=90)
    else:
        image.save(out, "PNG")
    return out.getvalue()


# PDF actions that run something, fetch something or send something. A dictionary of one of
# these kinds is cut out wherever it is referred to (/A, /OpenAction, /Next, /AA entries...).
ACTIVE_ACTIONS = {"/JavaScript", "/Launch", "/SubmitForm", "/ImportData", "/ResetForm",
                  "/GoToR", "/GoToE", "/Rendition", "/Movie", "/Sound", "/Hide",
                  "/RichMediaExecute", "/Thread", "/SetOCGState", "/Trans", "/GoTo3DView"}
# Keys that hold document details, scripts, forms, attachments or extra actions, anywhere.
DROPPED_KEYS = {"/AA", "/OpenAction", "/Metadata", "/PieceInfo", "/JS", "/JavaScript",
                "/EmbeddedFiles", "/EF", "/AcroForm", "/Names", "/RichMediaContent",
                "/LastModified"}
# Annotations that carry files, media or form fields: dropped (comments and links stay).
DROPPED_ANNOTATIONS = {"/FileAttachment", "/Sound", "/Movie", "/Screen", "/RichMedia",
                       "/3D", "/Widget"}


def _inert(obj: object, seen: set[int]) -> None:
    """Cut every active action and every key in DROPPED_KEYS out of ``obj`` and what it
    refers to, in place."""
    def active(value: object) -> bool:
        target = value.get_object() if isinstance(value, IndirectObject) else value
        if not isinstance(target, DictionaryObject):
            return False
        return target.get("/S") in ACTIVE_ACTIONS or (
            target.get("/Type") == "/Annot" and target.get("/Subtype") in DROPPED_ANNOTATIONS)

    stack = [obj]
    while stack:
        item = stack.pop()
        if isinstance(item, IndirectObject):
            if item.idnum in seen:
                continue
            seen.add(item.idnum)
            item = item.get_object()
        if isinstance(item, DictionaryObject):
            for name in list(item.keys()):
                if name in DROPPED_KEYS or active(item[name]):
                    del item[name]
                elif name not in ("/Parent", "/P"):
                    stack.append(item[name])
        elif isinstance(item, ArrayObject):
            item[:] = [value for value in item if not active(value)]
            stack.extend(item)


def _rebuild_pdf(data: bytes, label: str) -> bytes:
    """A new PDF of the sent one's pages alone: no Info dictionary, no XMP, no document
    catalogue entries (OpenAction, scripts, attachments, forms), and no actions that run
    or fetch anything on the pages or their annotations. Only reachable objects are
    written, so earlier revisions of an edited file are gone too."""
    locked = EvidenceRefused(f"{label} is locked with a password, so we could not open it. "
                             "Please send it without the password, or a screenshot of it.")
    damaged = EvidenceRefused(f"{label} looks damaged, so we could not keep it.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pypdf warns about every small repair
            reader = PdfReader(io.BytesIO(data), strict=False)
            if reader.is_encrypted and not reader.decrypt(""):
                raise locked
            # Made inert in the reader, before the pages are copied: the writer keeps every
            # object it has copied, even one no longer referred to.
            seen: set[int] = set()
            for page in reader.pages:
                _inert(page, seen)
            writer = PdfWriter()
            for page in reader.pages:
                writer.add_page(page)
            if not writer.pages:
                raise damaged
            writer.metadata = None
            out = io.BytesIO()
            writer.write(out)
    except EvidenceRefused:
        raise
    except Exception as error:  # noqa: BLE001 - pypdf raises many kinds on a broken file
        if isinstance(error, PdfReadError) and "decrypt" in str(error).lower():
            raise locked from error
        if isinstance(error, NotImplementedError | PdfReadError) and \
                "encrypt" in str(error).lower():
            raise locked from error
        raise damaged from error
    return out.getvalue()


def clean(data: bytes, label: str, pixel_budget: int = MAX_DECODE_PIXELS) -> CleanFile:
    """Check one file and make the copy that is kept (decoding at most ``pixel_budget``)."""
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
        kept = _rebuild_pdf(data, label)
        return CleanFile(kind, kept, len(data), received, hashlib.sha256(kept).hexdigest(),
                         "PDF rebuilt from its pages; details, scripts and attachments removed")
    kept, content_type, decoded = _rebuild(data, label, pixel_budget)
    return CleanFile(content_type, kept, len(data), received, hashlib.sha256(kept).hexdigest(),
                     "picture rebuilt from its pixels; hidden details removed", decoded)


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
    def content(item: bytes | BinaryIO) -> bytes:
        if isinstance(item, bytes | bytearray):
            return bytes(item)
        item.seek(0)
        return item.read(MAX_FILE_BYTES + 1)

    # Every picture's size from its header first: a report whose pictures would decode to
    # more than MAX_REQUEST_PIXELS is refused before any of them is decoded.
    planned = [_planned_pixels(content(item)) for _label, item, _size_ in chosen]
    if sum(planned) > MAX_REQUEST_PIXELS:
        biggest = max(range(len(chosen)), key=planned.__getitem__)
        raise _too_many(chosen[biggest][0])
    kept = []
    budget = MAX_REQUEST_PIXELS
    for label, item, _bytes in chosen:
        cleaned = clean(content(item), label, min(budget, MAX_DECODE_PIXELS))
        budget -= cleaned.pixels_decoded
        kept.append(cleaned)
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
