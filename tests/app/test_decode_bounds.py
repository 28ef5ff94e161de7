"""Decoding pictures is bounded: pixels per file, pixels per report, and decodes at once in
one process, so no request can take more than a fixed share of a small server's memory.
Each measurement runs in a fresh Python process and reads its peak resident memory
(``VmHWM``; ``ru_maxrss`` would carry the forking test process's own peak over): the peak
itself, not a timing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from portal import evidence
from tests.evidence_files import MB, flat_png, phone_photo

ROOT = Path(__file__).resolve().parents[2]

# Run in a child process: the files are read first, then the peak is noted, the work done,
# and the peak noted again. Pillow's pixel memory is allocated in C, which tracemalloc
# can't see, so this reads what the kernel saw (Linux only).
MEASURE = r"""
import json, sys, threading
from pathlib import Path
from portal import evidence

def status_kb(field):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])

def peak_kb():
    return status_kb("VmHWM")

mode, paths = sys.argv[1], sys.argv[2:]
files = [(f"File {n}", Path(p).read_bytes()) for n, p in enumerate(paths, start=1)]
results = []

def one(label, data, barrier=None):
    if barrier is not None:
        barrier.wait()
    try:
        kept = evidence.clean(data, label)
        results.append({"kept": kept.content_type, "bytes": len(kept.data)})
    except evidence.EvidenceRefused as refused:
        results.append({"refused": str(refused)})

# Start the peak from now: the imports' own high-water mark (which grows as the portal
# does) must not hide the decodes' (Linux: "5" resets VmHWM to the current RSS).
Path("/proc/self/clear_refs").write_text("5")
before = status_kb("VmRSS")
if mode == "each":
    for label, data in files:
        one(label, data)
elif mode == "together":
    try:
        kept = evidence.clean_all(files)
        results.append({"kept": [k.content_type for k in kept]})
    except evidence.EvidenceRefused as refused:
        results.append({"refused": str(refused)})
else:  # "threads": every file in its own thread, all starting at once
    barrier = threading.Barrier(len(files))
    threads = [threading.Thread(target=one, args=(label, data, barrier))
               for label, data in files]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
after = peak_kb()
print(json.dumps({"growth_mb": (after - before) / 1024, "results": results}))
"""


def measure(mode: str, *paths: Path) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, mode, *map(str, paths)],
        capture_output=True, text=True, check=True, timeout=300,
        # One malloc arena per thread would keep each thread's freed pixels as its own
        # high-water mark, so the peak would measure the allocator, not the decodes.
        env={**os.environ, "PYTHONPATH": str(ROOT), "MALLOC_ARENA_MAX": "2"},
    )
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pictures")


def write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


# What one full-size decode may cost: a 16.8-megapixel picture held once at 4 bytes a pixel
# (Pillow's RGB), with room for the encoder and the interpreter.
ONE_DECODE_MB = evidence.MAX_DECODE_PIXELS * 4 / MB * 1.5 + 30


def test_a_small_png_of_forty_megapixels_is_refused_before_it_is_decoded(folder):
    """The trial's file: 116 KB, 7000 × 5700 pixels; it took 673 MB to open."""
    bomb = flat_png(7000, 5700)
    assert len(bomb) < 200 * 1024
    run = measure("each", write(folder, "bomb.png", bomb))
    (result,) = run["results"]
    assert "too large a picture" in result["refused"]
    assert run["growth_mb"] < 40, run


def test_a_twelve_megapixel_phone_photo_is_kept_whole_within_one_decode(folder):
    photo = phone_photo((4000, 3000))
    run = measure("each", write(folder, "photo.jpg", photo))
    (result,) = run["results"]
    assert result.get("kept") == "image/jpeg", result
    assert run["growth_mb"] < ONE_DECODE_MB, run


def test_a_large_camera_photo_is_kept_smaller_without_decoding_it_whole(folder):
    """24 megapixels (a recent phone's default): decoded at half size straight from the
    JPEG, never whole, and kept at that size."""
    from PIL import Image

    photo = phone_photo((5712, 4284), noise=0.1)
    path = write(folder, "big.jpg", photo)
    run = measure("each", path)
    (result,) = run["results"]
    assert result.get("kept") == "image/jpeg", result
    assert run["growth_mb"] < 5712 * 4284 / 4 * 4 / MB * 1.5 + 30, run
    kept = evidence.clean(photo, "File 1")
    with Image.open(__import__("io").BytesIO(kept.data)) as image:
        assert image.size == (2856, 2142)


def test_a_report_has_a_pixel_budget_of_its_own(folder):
    """Five 16-megapixel PNGs (a few kilobytes each): each is allowed alone, but not all
    of them in one report, and none is decoded before the report is refused."""
    side = 4096
    assert side * side <= evidence.MAX_DECODE_PIXELS
    paths = [write(folder, f"wide{n}.png", flat_png(side, side)) for n in range(5)]
    run = measure("together", *paths)
    (result,) = run["results"]
    assert "too many big pictures" in result.get("refused", ""), result
    assert run["growth_mb"] < 40, run
    alone = measure("together", paths[0])
    assert alone["results"] == [{"kept": ["image/png"]}], alone


def test_only_a_few_pictures_are_decoded_at_once_in_one_process(folder):
    """Six children send a 12-megapixel photo in the same moment, one thread each: the peak
    stays within the decode slots' worth of memory, not six decodes' worth."""
    paths = [write(folder, f"p{n}.jpg", phone_photo((4000, 3000), noise=0.05 + n / 100))
             for n in range(6)]
    single = measure("each", paths[0])["growth_mb"]
    run = measure("threads", *paths)
    assert all(r.get("kept") == "image/jpeg" for r in run["results"]), run
    # Six decodes at once would need about six singles; the slots allow DECODE_SLOTS, plus
    # room for the six threads' encoded and rebuilt files and the allocator's slack (seen
    # at 145 MB against 3 x 48 under a loaded machine): still far below six.
    assert run["growth_mb"] < (evidence.DECODE_SLOTS + 2) * single, (run, single)
    assert len(paths) > evidence.DECODE_SLOTS + 2  # the bound still tells slots from none


HOLD = r"""
import sys
from pathlib import Path
from portal import evidence

evidence.share_decode_slots(Path(sys.argv[1]))
with evidence._decode_slot("a"), evidence._decode_slot("b"):
    print("holding", flush=True)
    sys.stdin.readline()
"""

TRY = r"""
import io, sys
from pathlib import Path
from PIL import Image
from portal import evidence

evidence.share_decode_slots(Path(sys.argv[1]), wait=1)
out = io.BytesIO()
Image.new("RGB", (40, 30)).save(out, "PNG")
try:
    print(evidence.clean(out.getvalue(), "File 1").content_type)
except evidence.EvidenceRefused as refused:
    print(refused)
"""


def test_the_decode_slots_hold_across_the_processes_of_one_machine(tmp_path):
    """Another process (a second gunicorn worker) decoding DECODE_SLOTS pictures at once
    leaves no slot for this one: it waits, and in the end says it's busy, words kept."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    slots = tmp_path / "decode-slots"
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(slots)], env=env,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "holding"
        busy = subprocess.run([sys.executable, "-c", TRY, str(slots)], env=env,
                              capture_output=True, text=True, check=True, timeout=60)
        assert "very busy" in busy.stdout, busy.stdout + busy.stderr
    finally:
        holder.communicate("\n", timeout=30)
    free = subprocess.run([sys.executable, "-c", TRY, str(slots)], env=env,
                          capture_output=True, text=True, check=True, timeout=60)
    assert free.stdout.strip() == "image/png", free.stdout + free.stderr
