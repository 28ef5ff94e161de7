"""Evidence files as people really send them: phone photos and screenshots of real size,
crafted hostile pictures, and PDFs with metadata and scripts. Made with Pillow and random
bytes (random noise doesn't compress, so the sizes are those of real camera files)."""

from __future__ import annotations

import io
import os
import zlib

from PIL import Image

MB = 1024 * 1024


def phone_photo(size: tuple[int, int] = (4000, 3000), noise: float = 0.2,
                marker: str = "MARKERCAMERA") -> bytes:
    """A 12-megapixel camera JPEG with EXIF (camera make, GPS, orientation): about 4.3 MB at
    the default noise, 5 MB at 0.25."""
    width, height = size
    ramp = Image.linear_gradient("L").resize(size)
    scene = Image.merge("RGB", [ramp, ramp.transpose(Image.Transpose.FLIP_LEFT_RIGHT), ramp])
    grain = Image.frombytes("RGB", size, os.urandom(width * height * 3))
    image = Image.blend(scene, grain, noise)
    exif = Image.Exif()
    exif[0x010F] = marker
    exif[0x0112] = 1
    exif[0x8825] = {1: "N", 2: (51.0, 30.0, 12.5), 3: "W", 4: (0.0, 7.0, 39.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", quality=88, exif=exif)
    return out.getvalue()


def screenshot(size: tuple[int, int] = (1170, 2532), photo: int = 1000) -> bytes:
    """A phone screenshot as a PNG: a chat on a light background with a photo in it (grainy
    at 4 bits a channel, as PNG can't shrink a photo much): ~1.6 MB."""
    width, height = size
    page = Image.new("RGB", size, (236, 229, 221))
    bubble = Image.new("RGB", (width * 3 // 4, 140), (220, 248, 198))
    for top in range(200, height - 200, 260):
        page.paste(bubble, (40 if top % 520 else width // 4 - 40, top))
    coarse = bytes(b & 0xF0 for b in range(256))
    grain = os.urandom(photo * photo * 3).translate(coarse)
    page.paste(Image.frombytes("RGB", (photo, photo), grain), ((width - photo) // 2, 600))
    out = io.BytesIO()
    page.save(out, "PNG", compress_level=1)
    return out.getvalue()


def padded(data: bytes, total: int) -> bytes:
    """``data`` grown to ``total`` bytes with trailing bytes (still sniffed as its type)."""
    return data + b"\0" * (total - len(data))


def flat_png(width: int, height: int) -> bytes:
    """A PNG of one colour and any size: a few hundred kilobytes that decode to gigabytes.

    Written by hand (one IDAT of zlib-compressed zero rows), because Pillow would have to
    hold the whole picture to write it."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (len(body).to_bytes(4, "big") + kind + body
                + zlib.crc32(kind + body).to_bytes(4, "big"))

    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 2, 0, 0, 0])
    packer = zlib.compressobj(9)
    row = b"\0" * (1 + width * 3)
    body = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body)
            + chunk(b"IEND", b""))
