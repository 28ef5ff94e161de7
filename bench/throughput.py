"""Pupil submission throughput against a bare Flask + SQLAlchemy insert, side by side.

A = the real pupil form: each simulated pupil's browser keeps its own cookie jar and loads
the form (CSRF token and one-time submission token) before the clock starts; then the POSTs
are timed. (The portal clears the form session after every report, so each report is one
browser session: GET, then POST.)
Rate limiting is on, with 127.0.0.0/8 as the school network so per-device limits apply.
B = bench/bare_app.py: one multipart POST, one row inserted and committed.

Both are served by gunicorn with gunicorn.conf.py and the same workers x threads, on the same
database, alternated A B A B. Every round starts freshly started servers (and, on Redis,
empty rate-limit counters), warms them up, then counts only the POSTs of its timed window.
"""

from __future__ import annotations

import math
import random
import secrets
import time
from pathlib import Path
from typing import Any

import redis
from sqlalchemy import func, select, text

from portal.db import make_engine
from portal.models import Report

from . import bare_app, data
from .client import (
    Device,
    RunResult,
    bare_jobs,
    bare_stored,
    closed_loop,
    fetch_forms,
    median,
    percentile,
    stored,
)
from .servers import Server

PORTAL_APP = "portal:create_app()"
BARE_APP = "bench.bare_app:create_app()"
FORM = f"/s/{data.SLUG}/pupil"
PER_DEVICE = 1  # the portal clears a browser's form session after each report


def _count(url: str) -> tuple[int, int]:
    engine = make_engine(url)
    with engine.connect() as conn:
        reports = conn.scalar(select(func.count()).select_from(Report)) or 0
        bare = conn.scalar(text("SELECT count(*) FROM bench_bare_rows")) or 0
    engine.dispose()
    return int(reports), int(bare)


def run(label: str, url: str, workdir: Path, *, rounds: int, seconds: float, workers: int,
        threads: int, concurrency: int, redis_url: str | None, log: Any) -> dict[str, Any]:
    """A B A B ... on one database; returns the figures for results.json."""
    data.prepare(url)
    bare_app.prepare(url)
    rng = random.Random(7)
    env: dict[str, str | None] = {
        "PORTAL_DATABASE_URL": url,
        "PORTAL_SECRET_KEY": secrets.token_hex(32),
        "PORTAL_DATA_KEY": data.DATA_KEY,
        "PORTAL_INSTANCE_DIR": str(workdir / "instance"),
        "PORTAL_SCHOOL_NETWORKS": "127.0.0.0/8",
        "PORTAL_RATELIMIT_ENABLED": "1",
        "PORTAL_RATELIMIT_STORAGE_URI": redis_url or "memory://",
        "PORTAL_SMTP_URL": None,  # no mail server: the outbox only queues
    }
    a_rounds: list[RunResult] = []
    b_rounds: list[RunResult] = []
    form_problems: dict[str, int] = {}
    peak: dict[str, list[float]] = {}
    estimate = {"A": 100.0, "B": 500.0}
    sent = {"A": 0, "B": 0}  # stored answers, warm-ups included: what the tables must hold
    for number in range(1, rounds + 1):
        for side in ("A", "B"):
            if side == "A" and redis_url:
                redis.Redis.from_url(redis_url).flushdb()
            app = PORTAL_APP if side == "A" else BARE_APP
            with Server(app, env, workdir / f"gunicorn-{label}-{side}.log", workers=workers,
                        threads=threads) as server:
                host, port = "127.0.0.1", server.port
                # Enough answers for the round at the best rate seen so far, plus the
                # warm-up; should they run out early, the round is simply shorter.
                needed = math.ceil(estimate[side] * seconds * 1.1) + 100
                if side == "A":
                    devices = [Device(server.url) for _ in range(math.ceil(needed / PER_DEVICE))]
                    started = time.perf_counter()
                    jobs, problems = fetch_forms(host, port, FORM, devices, PER_DEVICE,
                                                 concurrency, rng)
                    for key, value in problems.items():
                        form_problems[key] = form_problems.get(key, 0) + value
                    prep = time.perf_counter() - started
                    check = stored
                else:
                    jobs, prep, check = bare_jobs(needed, rng), 0.0, bare_stored
                warm, timed = jobs[:100], jobs[100:]
                warmed = closed_loop(host, port, warm, concurrency, 5.0, check)
                sent[side] += warmed.ok
                result = closed_loop(host, port, timed, concurrency, seconds, check)
                sent[side] += result.ok
                estimate[side] = max(estimate[side], result.rate)
                (a_rounds if side == "A" else b_rounds).append(result)
                if number == rounds:
                    peak[side] = server.peak_rss_mib()
                log(f"  {label} round {number} {side}: {result.rate:7.1f} req/s "
                    f"({result.ok} in {result.seconds:.1f} s, 429: {result.refused}, "
                    f"errors: {dict(result.errors) or 0}, forms loaded in {prep:.1f} s)")
    reports, bare = _count(url)

    def side_figures(results: list[RunResult]) -> dict[str, Any]:
        ok = sum(r.ok for r in results)
        secs = sum(r.seconds for r in results)
        latencies = [x for r in results for x in r.latencies]
        errors: dict[str, int] = {}
        for r in results:
            for key, value in r.errors.items():
                errors[key] = errors.get(key, 0) + value
        return {"rounds_req_per_s": [round(r.rate, 1) for r in results],
                "req_per_s": round(ok / secs, 1) if secs else 0.0, "ok": ok,
                "seconds": round(secs, 2), "refused_429": sum(r.refused for r in results),
                "errors": errors, "median_ms": round(median(latencies) * 1000, 1),
                "p95_ms": round(percentile(latencies, 95) * 1000, 1)}

    a, b = side_figures(a_rounds), side_figures(b_rounds)
    pair_ratios = [round(x.rate / y.rate, 3) for x, y in zip(a_rounds, b_rounds, strict=True)
                   if y.rate]
    return {
        "database": label, "workers": workers, "threads": threads, "concurrency": concurrency,
        "rounds": rounds, "round_seconds": seconds,
        "rate_limit_storage": "redis" if redis_url else "memory",
        "portal": a, "bare": b,
        "ratio": round(a["req_per_s"] / b["req_per_s"], 3) if b["req_per_s"] else None,
        "pair_ratios": pair_ratios,
        "form_load_problems": form_problems,
        "stored_reports": reports, "confirmed_reports": sent["A"],
        "stored_bare_rows": bare, "confirmed_bare_rows": sent["B"],
        "peak_worker_rss_mib": {k: [round(x, 1) for x in v] for k, v in peak.items()},
    }
