"""Take the screenshots in this folder: each page as a tablet (768x1024) and a phone
(390x844) shows it.

    .venv/bin/python docs/screenshots/take.py            # every page
    .venv/bin/python docs/screenshots/take.py queue case  # only these

The portal runs as the browser tests run it (tests/browser/conftest.py): a local port, its
own SQLite file in a temporary folder, the school "Oakfield Primary" with two trusted
adults, a DSL signing in with an authenticator code, and the reports, roster pupils and
messages of ``tests.browser.pages.seed`` plus a few more, one of them urgent. Chromium is
Debian's (/usr/bin/chromium). Nothing leaves 127.0.0.1.

Each page is captured whole (full_page) at one device pixel per CSS pixel, then reduced
to 256 colours with Pillow, which keeps the folder small (about 3 MB in all) with no
visible loss on flat interface colours.
"""

from __future__ import annotations

import io
import random
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from PIL import Image  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402
from sqlalchemy import create_engine, select  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from portal import create_app, demo, demo_history  # noqa: E402
from portal.config import Settings  # noqa: E402
from portal.logging import AnonymousRequestHandler  # noqa: E402
from portal.models import Base, LinkRole, School, User  # noqa: E402
from tests.browser import pages  # noqa: E402
from tests.browser.conftest import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    DSL_EMAIL,
    NOT_LOCAL,
    SCHOOL,
    CloseOnHangUp,
    DslAtDesk,
    LiveServer,
    Person,
    PupilOnTablet,
)

HERE = Path(__file__).resolve().parent
DEVICES: dict[str, dict[str, Any]] = {
    "tablet": {"viewport": {"width": 768, "height": 1024}, "has_touch": True},
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
}
Shot = Callable[[Any, dict[str, Any]], None]


def _pupil_done(page: Any, seeded: dict[str, Any]) -> None:
    PupilOnTablet(page).report(pictures=("Someone hurt my body",),
                               words="Some big kids push me at the gate after school.",
                               feels_safe="No", adult="Mrs Patel (Class 4 teacher)")


def _follow_up_status(page: Any, seeded: dict[str, Any]) -> None:
    Person(page).check_code(seeded["evidence_code"])
    page.locator(".message").first.wait_for()


def _case(page: Any, seeded: dict[str, Any]) -> None:
    page.goto(f"/staff/cases/{seeded['urgent_id']}")


def _chronology(page: Any, seeded: dict[str, Any]) -> None:
    page.goto(f"/staff/pupils/{seeded['pupil_id']}")


def _figures(page: Any, seeded: dict[str, Any]) -> None:
    page.goto("/staff/figures")


# (file name, what it shows, whether a DSL is signed in, how to get there)
SHOTS: list[tuple[str, str, bool, Shot]] = [
    ("start", "Start page", False, pages.REPORTER_PAGES["start"]),
    ("pupil-form", "Pupil form", False, pages.REPORTER_PAGES["pupil form"]),
    ("pupil-form-errors", "Pupil form with errors", False,
     pages.REPORTER_PAGES["pupil form with errors"]),
    ("pupil-done", "Pupil confirmation (not feeling safe)", False, _pupil_done),
    ("parent-form", "Parent form", False, pages.REPORTER_PAGES["parent form"]),
    ("parent-done", "Parent confirmation", False, pages.REPORTER_PAGES["parent confirmation"]),
    ("follow-up-status", "Follow-up status with messages", False, _follow_up_status),
    ("staff-sign-in", "Staff sign-in", False, pages.STAFF_PAGES["staff login"]),
    ("queue", "The DSL's queue", True, pages.SIGNED_IN_PAGES["queue (signed in)"]),
    ("case", "A case", True, _case),
    ("pupil-chronology", "A pupil's chronology", True, _chronology),
    ("figures", "The figures (this term beside last year)", True, _figures),
]


def start_portal(root: Path) -> tuple[LiveServer, Any]:
    """The portal on a free local port with its own database (rate limits off)."""
    url = f"sqlite:///{root / 'portal.sqlite'}"
    engine = create_engine(url)
    Base.metadata.create_all(engine)
    engine.dispose()
    app = create_app(Settings(instance_dir=root / "instance", database_url=url,
                              secret_key=secrets.token_hex(32),
                              ratelimit_storage_uri="memory://", ratelimit_enabled=False))
    server = make_server("127.0.0.1", 0, CloseOnHangUp(app),  # type: ignore[arg-type]
                         threaded=True, request_handler=AnonymousRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    live = LiveServer(url=f"http://127.0.0.1:{server.server_port}", app=app, server=server,
                      thread=thread)
    live.add_school(SCHOOL, "Oakfield Primary")
    live.add_staff(SCHOOL, DSL_EMAIL)
    thread.start()
    return live, server


def seed(live: LiveServer) -> dict[str, Any]:
    """``pages.seed`` and a fuller queue: more pupils' and parents' reports."""
    seeded = pages.seed(live)
    named_id, _ = live.add_report(anonymous="no", reporter_name="Maya Singh",
                                  reporter_class="6C", kinds=["emotional"],
                                  places=["playground"],
                                  what_happened="Nobody lets me play at lunch any more.")
    live.add_report(source="parent", concern="school_refusal",
                    details="Leo cries every morning and says he feels sick before school.",
                    child_name="Leo Green", child_year="Year 3")
    live.link_pupil(named_id, seeded["pupil_id"], LinkRole.WITNESS)
    # Two terms of history for the figures page, as ``portal demo`` makes them.
    with live.db() as db:
        school = db.scalars(select(School).where(School.slug == SCHOOL)).one()
        dsl = db.scalars(select(User).where(User.email == DSL_EMAIL)).one()
        rng = random.Random(2026)  # noqa: S311 - invented data
        pupils = demo_history.extra_roster(db, school, rng, 180, prefix="S", years=demo.YEARS)
        demo._history(db, school, dsl, pupils, rng, demo_history.OAKFIELD, live.url)
    return seeded


def pdf_first_page(live: LiveServer, state: dict[str, Any], browser: Any) -> None:
    """The governors' PDF's first page as a PNG (needs pdftoppm, from poppler-utils)."""
    tool = shutil.which("pdftoppm")
    if tool is None:
        print("pdftoppm is missing (apt-get install poppler-utils): no PDF screenshot")
        return
    context = browser.new_context(base_url=live.url, storage_state=state)
    body = context.request.get("/staff/figures.pdf").body()
    context.close()
    with tempfile.TemporaryDirectory() as tmp:
        pdf = Path(tmp) / "figures.pdf"
        pdf.write_bytes(body)
        subprocess.run([tool, "-png", "-r", "90", "-f", "1", "-l", "1",  # noqa: S603
                        str(pdf), str(Path(tmp) / "page")], check=True)
        page = next(Path(tmp).glob("page*.png"))
        path = HERE / "figures-pdf.png"
        path.write_bytes(optimise(page.read_bytes()))
        print(f"{path.relative_to(ROOT)}  {path.stat().st_size // 1024} KB")


def optimise(png: bytes) -> bytes:
    """256 colours, no dithering: interface screenshots stay crisp and small."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    small = image.quantize(colors=256, method=Image.Quantize.MEDIANCUT,
                           dither=Image.Dither.NONE)
    out = io.BytesIO()
    small.save(out, "PNG", optimize=True)
    return out.getvalue()


def main(only: list[str]) -> None:
    if not CHROMIUM.exists():
        sys.exit(f"{CHROMIUM} is missing (apt-get install chromium)")
    unknown = set(only) - {name for name, *_ in SHOTS}
    if unknown:
        sys.exit(f"no such page: {', '.join(sorted(unknown))}")
    with tempfile.TemporaryDirectory() as tmp:
        live, server = start_portal(Path(tmp))
        try:
            seeded = seed(live)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=str(CHROMIUM),
                                                     args=CHROMIUM_ARGS)
                signed_in = browser.new_context(base_url=live.url, locale="en-GB")
                signed_in.route(NOT_LOCAL, lambda route: route.abort())
                DslAtDesk(signed_in.new_page()).sign_in()
                state = signed_in.storage_state()
                signed_in.close()
                total = 0
                for name, _title, staff, visit in SHOTS:
                    if only and name not in only:
                        continue
                    for device, options in DEVICES.items():
                        context = browser.new_context(
                            base_url=live.url, locale="en-GB", timezone_id="Europe/London",
                            storage_state=state if staff else None, **options)
                        context.route(NOT_LOCAL, lambda route: route.abort())
                        page = context.new_page()
                        visit(page, seeded)
                        page.wait_for_load_state("load")
                        page.evaluate("document.activeElement && document.activeElement.blur()")
                        data = optimise(page.screenshot(full_page=True, animations="disabled",
                                                        caret="hide"))
                        path = HERE / f"{name}-{device}.png"
                        path.write_bytes(data)
                        total += len(data)
                        print(f"{path.relative_to(ROOT)}  {len(data) // 1024} KB")
                        context.close()
                if not only or "figures" in only:
                    pdf_first_page(live, state, browser)
                browser.close()
                print(f"{total / 1024 / 1024:.1f} MB in all")
        finally:
            server.shutdown()
            server.server_close()
            live.app.extensions["portal.engine"].dispose()


if __name__ == "__main__":
    main(sys.argv[1:])
