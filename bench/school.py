"""A whole school at once: 1,500 reports from 30 tablets behind one school address.

SQLite, the default server settings (gunicorn.conf.py as shipped: 2 x cores + 1 workers,
2 threads each; rate limits on, in memory), PORTAL_SCHOOL_NETWORKS=127.0.0.0/8. The 30
tablets are enrolled as kiosks, as a school would set them up, so each has its own
per-device limit (20 reports a minute) for the whole run: the strictest case. Each keeps
one cookie jar and, like a queue of pupils taking turns, loads the form and sends a report
every few seconds, so the school's 1,500 reports arrive well inside five minutes.
Checked afterwards: every report stored, none refused, none stored twice.
"""

from __future__ import annotations

import http.client
import random
import secrets
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from portal.db import make_engine
from portal.models import Report

from . import data
from .client import (
    CODE,
    Connection,
    Device,
    answer_fields,
    hidden_tokens,
    median,
    multipart,
    percentile,
)
from .servers import Server

FORM = f"/s/{data.SLUG}/pupil"


def run(url: str, workdir: Path, *, tablets: int, reports: int, seconds: float,
        log: Any) -> dict[str, Any]:
    data.prepare(url)
    secret_key = secrets.token_hex(32)
    kiosks = data.enrol_tablets(url, tablets, secret_key)
    env: dict[str, str | None] = {
        "PORTAL_DATABASE_URL": url,
        "PORTAL_SECRET_KEY": secret_key,
        "PORTAL_DATA_KEY": data.DATA_KEY,
        "PORTAL_INSTANCE_DIR": str(workdir / "instance"),
        "PORTAL_SCHOOL_NETWORKS": "127.0.0.0/8",
        "PORTAL_RATELIMIT_ENABLED": None,  # default: on
        "PORTAL_RATELIMIT_STORAGE_URI": None,  # default: memory://
        "PORTAL_SMTP_URL": None,
    }
    per_tablet = -(-reports // tablets)
    pace = seconds / per_tablet  # one report per tablet every ``pace`` seconds
    lock = threading.Lock()
    statuses: Counter[str] = Counter()
    codes: list[str] = []
    post_times: list[float] = []
    get_times: list[float] = []
    sent = 0
    with Server("portal:create_app()", env, workdir / "gunicorn-school.log") as server:
        workers = len(server.workers())

        def tablet(number: int, rng: random.Random) -> None:
            nonlocal sent
            device = Device(server.url, kiosks[number])
            # Tablets start a little apart, as classes do.
            time.sleep(rng.uniform(0, pace))
            began = time.perf_counter()
            for turn in range(per_tablet):
                with lock:
                    if sent >= reports:
                        return
                    sent += 1
                # A fresh connection each time: a pupil spends longer than keep-alive on it.
                conn = Connection("127.0.0.1", server.port, keep_alive=False)
                try:
                    page = conn.request("GET", FORM, device=device)
                    tokens = hidden_tokens(page.body.decode())
                    fields = [("csrf_token", tokens.get("csrf_token", "")),
                              ("submission", tokens.get("submission", ""))]
                    body, content_type = multipart(fields + answer_fields(rng))
                    reply = conn.request("POST", FORM, body, {"Content-Type": content_type},
                                         device=device)
                except (OSError, http.client.HTTPException) as exc:
                    with lock:
                        statuses[type(exc).__name__] += 1
                    continue
                found = CODE.search(reply.body)
                with lock:
                    get_times.append(page.seconds)
                    statuses[str(reply.status)] += 1
                    if reply.status == 200 and found:
                        post_times.append(reply.seconds)
                        codes.append(found.group(0).decode())
                wait = began + (turn + 1) * pace - time.perf_counter()
                if wait > 0:
                    time.sleep(wait)

        started = time.perf_counter()
        threads = [threading.Thread(target=tablet, args=(n, random.Random(n)))
                   for n in range(tablets)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - started
        peak = server.peak_rss_mib()
    engine = make_engine(url)
    with engine.connect() as conn:
        stored = int(conn.scalar(select(func.count()).select_from(Report)) or 0)
        distinct = int(conn.scalar(select(func.count(func.distinct(Report.submission_hash))))
                       or 0)
    engine.dispose()
    log(f"  {stored} stored of {sent} sent in {elapsed:.0f} s; answers {dict(statuses)}")
    return {
        "tablets": tablets, "kiosks_enrolled": sum(1 for k in kiosks if k),
        "reports_sent": sent, "seconds": round(elapsed, 1),
        "pace_seconds_per_tablet": round(pace, 2), "workers": workers,
        "answers": dict(statuses), "refused_429": statuses.get("429", 0),
        "errors": sum(v for k, v in statuses.items() if k not in ("200", "429")),
        "confirmed": len(codes), "distinct_codes": len(set(codes)),
        "stored": stored, "stored_distinct_submissions": distinct,
        "post_median_ms": round(median(post_times) * 1000, 1),
        "post_p95_ms": round(percentile(post_times, 95) * 1000, 1),
        "form_p95_ms": round(percentile(get_times, 95) * 1000, 1),
        "peak_worker_rss_mib": [round(x, 1) for x in peak],
    }
