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


PDF_MARKERS = (b"MARKERAUTHOR", b"MARKERCREATOR", b"MARKERPRODUCER", b"MARKERXMP",
               b"MARKERJS", b"MARKERPAGEJS", b"MARKEREMBED", b"MARKERLAUNCH")
PDF_TEXT = "He said he would hurt me after school"


def hostile_pdf() -> bytes:
    """A one-page letter as a PDF from a real editor might carry it: an Info dictionary
    (Author, Creator, Producer), XMP metadata, a JavaScript OpenAction and document-level
    script, a script when the page opens, an embedded file and a link that launches a
    program; every one with a marker. Written by hand, uncompressed, with a true xref."""
    stream = f"BT /F1 18 Tf 72 700 Td ({PDF_TEXT}) Tj ET".encode()
    xmp = (b'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:'
           b'meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:'
           b'Description xmlns:dc="http://purl.org/dc/elements/1.1/" dc:creator="MARKERXMP"/>'
           b'</rdf:RDF></x:xmpmeta><?xpacket end="w"?>')
    embedded = b"MARKEREMBED: the parent's notes"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R /OpenAction 5 0 R /Metadata 6 0 R"
        b" /Names << /JavaScript << /Names [(init) 12 0 R] >>"
        b" /EmbeddedFiles << /Names [(notes.txt) 8 0 R] >> >> /AA << /WC 5 0 R >> >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 7 0 R >> >> /AA << /O 13 0 R >> /Annots [10 0 R] >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /S /JavaScript /JS (app.alert('MARKERJS');) >>",
        b"<< /Type /Metadata /Subtype /XML /Length %d >>\nstream\n" % len(xmp) + xmp
        + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Type /Filespec /F (notes.txt) /EF << /F 9 0 R >> >>",
        b"<< /Type /EmbeddedFile /Length %d >>\nstream\n" % len(embedded) + embedded
        + b"\nendstream",
        b"<< /Type /Annot /Subtype /Link /Rect [72 600 300 620] /Border [0 0 0]"
        b" /A << /S /Launch /F (MARKERLAUNCH.exe) >> >>",
        b"<< /Author (MARKERAUTHOR) /Creator (MARKERCREATOR) /Producer (MARKERPRODUCER) >>",
        b"<< /S /JavaScript /JS (this.print();) /Next 5 0 R >>",
        b"<< /S /JavaScript /JS (app.alert('MARKERPAGEJS');) >>",
    ]
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    start = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 11 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, start)
    return bytes(out)
