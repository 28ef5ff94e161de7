"""Run every benchmark and write bench/results.md and bench/results.json: ``make bench``.

    python -m bench.run              # everything, about 8½ minutes on two cores
    BENCH_QUICK=1 python -m bench.run   # a shorter smoke run (figures not for quoting)

Settings (environment): BENCH_ROUNDS (4), BENCH_ROUND_SECONDS (8), BENCH_WORKERS (2),
BENCH_THREADS (4), BENCH_CONCURRENCY (16), BENCH_QUEUE_SIZES (1000,100000),
BENCH_PAGE_SAMPLES (20), BENCH_MILLION=1 (adds 1,000,000 reports on SQLite: several more
minutes; it adds them to the figures page too, on SQLite and, with BENCH_FIGURES_POSTGRESQL,
on PostgreSQL), BENCH_PAGES_POSTGRESQL=1 (the staff pages on PostgreSQL too: about 2 more
minutes), BENCH_FIGURES_SIZES (10000), BENCH_FIGURES_POSTGRESQL=1 (the figures page on
PostgreSQL too), BENCH_SCHOOL_SECONDS (165), BENCH_PG_URL (an admin URL; databases bench_*
are made and dropped), BENCH_REDIS_URL (redis://127.0.0.1:6379/4: flushed, used on the
PostgreSQL run), BENCH_KEEP=1 (keep bench/work and the figures' databases, to look at
their query plans afterwards).
BENCH_ONLY=figures (a comma-separated list of throughput, pages, figures, school): run only
those sections and keep the others' figures from the last bench/results.json (the file
says which sections came from which run).
Servers listen on 127.0.0.1 only and are always stopped.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import data, machine, pages, school, throughput
from . import figures as figure_page

HERE = Path(__file__).resolve().parent
WORK = HERE / "work"
BUDGET_RATIO = 0.6
BUDGET_QUEUE_MS = 50.0
BUDGET_QUEUE_GROWTH = 1.5
BUDGET_FIGURES_MS = 300.0
BUDGET_FIGURES_GROWTH = 2.0
FIGURES_SMALL, FIGURES_LARGE = "10000", "1000000"
SECTIONS = ("throughput", "pages", "figures", "school")
SCHOOL_WINDOW = 300.0


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


def _env_float(name: str, default: float) -> float:
    return float(os.environ.get(name) or default)


def log(message: str) -> None:
    print(message, flush=True)


def section(results: dict[str, Any], key: str, title: str,
            work: Callable[[], Any]) -> None:
    """Run one benchmark; a failure is recorded in the results and the others still run."""
    log(f"\n== {title}")
    began = time.perf_counter()
    try:
        results[key] = work()
    except Exception as exc:  # keep going: the other figures are still worth having
        traceback.print_exc()
        results[key] = {"error": f"{type(exc).__name__}: {exc}"}
    log(f"   ({time.perf_counter() - began:.0f} s)")


def main() -> int:
    quick = bool(os.environ.get("BENCH_QUICK"))
    rounds = _env_int("BENCH_ROUNDS", 2 if quick else 4)
    round_seconds = _env_float("BENCH_ROUND_SECONDS", 3 if quick else 8)
    workers = _env_int("BENCH_WORKERS", 2)
    threads = _env_int("BENCH_THREADS", 4)
    concurrency = _env_int("BENCH_CONCURRENCY", 16)
    sizes = [int(x) for x in (os.environ.get("BENCH_QUEUE_SIZES")
                              or ("1000,10000" if quick else "1000,100000")).split(",")]
    if os.environ.get("BENCH_MILLION"):
        sizes.append(1_000_000)
    school_seconds = _env_float("BENCH_SCHOOL_SECONDS", 20 if quick else 165)
    samples = _env_int("BENCH_PAGE_SAMPLES", 10 if quick else 20)
    figure_sizes = [int(x) for x in (os.environ.get("BENCH_FIGURES_SIZES")
                                     or ("1000" if quick else "10000")).split(",")]
    if os.environ.get("BENCH_MILLION"):
        figure_sizes.append(1_000_000)
    only = [x.strip() for x in (os.environ.get("BENCH_ONLY") or ",".join(SECTIONS)).split(",")
            if x.strip()]
    unknown = set(only) - set(SECTIONS)
    if unknown:
        log(f"BENCH_ONLY: unknown sections {sorted(unknown)}; choose from {SECTIONS}")
        return 2

    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    started = time.perf_counter()
    results: dict[str, Any] = {"machine": machine.info(), "quick": quick, "settings": {
        "rounds": rounds, "round_seconds": round_seconds, "workers": workers,
        "threads": threads, "concurrency": concurrency, "queue_sizes": sizes,
        "school_seconds": school_seconds, "page_samples": samples,
        "figure_sizes": figure_sizes, "sections": only}}
    log(f"Machine: {results['machine']}")
    postgres = data.postgres_available()
    pg_databases: list[str] = []
    try:
        if "throughput" in only:
            _throughput(results, postgres, pg_databases, rounds=rounds, seconds=round_seconds,
                        workers=workers, threads=threads, concurrency=concurrency)
        if "pages" in only:
            _pages(results, postgres, pg_databases, sizes, samples)
        if "figures" in only:
            _figures(results, postgres, pg_databases, figure_sizes, samples)
        if "school" in only:
            section(results, "school",
                    "A whole school at once (SQLite, default server settings)",
                    lambda: school.run(data.sqlite_url(WORK / "school.sqlite"), WORK,
                                       tablets=30, reports=1500, seconds=school_seconds,
                                       log=log))
    finally:
        if postgres:
            # The PostgreSQL run's rate-limit counters; best effort: the keys expire within
            # the hour.
            with contextlib.suppress(Exception):
                import redis

                redis.Redis.from_url(data.REDIS_URL).flushdb()
        for name in pg_databases:
            # Best effort: the next run drops it first anyway.
            with contextlib.suppress(Exception):
                data.drop_postgres(name)
    results["machine"]["load_average_at_end"] = machine.load()
    results["total_seconds"] = seconds = round(time.perf_counter() - started, 1)
    if set(only) != set(SECTIONS):
        results = _merge_previous(results, only)
    results["budgets"] = budgets(results)
    (HERE / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    (HERE / "results.md").write_text(render(results))
    if not os.environ.get("BENCH_KEEP"):
        shutil.rmtree(WORK, ignore_errors=True)
    log(f"\nWrote bench/results.md and bench/results.json in {seconds:.0f} s")
    for row in results["budgets"]:
        log(f"  {'PASS' if row['ok'] else 'MISS'}  {row['budget']}: {row['measured']}")
    return 0


# Which results keys each section writes.
SECTION_KEYS = {"throughput": ("throughput_sqlite", "throughput_postgresql"),
                "pages": ("pages_sqlite", "pages_postgresql"),
                "figures": ("figures_sqlite", "figures_postgresql"),
                "school": ("school",)}


def _merge_previous(results: dict[str, Any], only: list[str]) -> dict[str, Any]:
    """The sections run now over the last full results (BENCH_ONLY): the machine, settings
    and total time are the previous run's, and ``partial_runs`` says what was replaced when."""
    try:
        previous = json.loads((HERE / "results.json").read_text())
    except (OSError, ValueError):
        return results
    merged = {k: v for k, v in previous.items() if k != "budgets"}
    for name in only:
        for key in SECTION_KEYS[name]:
            merged.pop(key, None)
            if key in results:
                merged[key] = results[key]
    merged["partial_runs"] = [
        *[r for r in previous.get("partial_runs", [])
          if not set(r["sections"]) <= set(only)],
        {"sections": only, "date": results["machine"]["date"],
         "seconds": results["total_seconds"], "quick": results["quick"],
         "load_average": [results["machine"]["load_average_at_start"],
                          results["machine"].get("load_average_at_end")],
         "settings": results["settings"]}]
    return merged


def _throughput(results: dict[str, Any], postgres: bool, pg_databases: list[str],
                **settings: Any) -> None:
    section(results, "throughput_sqlite", "Submission throughput, SQLite",
            lambda: throughput.run("SQLite", data.sqlite_url(WORK / "throughput.sqlite"),
                                   WORK, redis_url=None, log=log, **settings))
    if postgres:
        pg_databases.append("bench_throughput")
        section(results, "throughput_postgresql", "Submission throughput, PostgreSQL + Redis",
                lambda: throughput.run("PostgreSQL", data.postgres_url("bench_throughput"),
                                       WORK, redis_url=data.REDIS_URL, log=log, **settings))


def _pages(results: dict[str, Any], postgres: bool, pg_databases: list[str],
           sizes: list[int], samples: int) -> None:
    results["pages_sqlite"] = {}
    for size in sizes:
        section(results["pages_sqlite"], str(size), f"Staff pages, SQLite, {size:,} reports",
                lambda size=size: pages.measure(  # type: ignore[misc]
                    data.sqlite_url(WORK / f"pages-{size}.sqlite"), size, WORK,
                    samples=samples, log=log))
    if postgres and os.environ.get("BENCH_PAGES_POSTGRESQL"):
        results["pages_postgresql"] = {}
        for size in [s for s in sizes if s <= 100_000]:
            pg_databases.append(f"bench_pages_{size}")
            section(results["pages_postgresql"], str(size),
                    f"Staff pages, PostgreSQL, {size:,} reports",
                    lambda size=size: pages.measure(  # type: ignore[misc]
                        data.postgres_url(f"bench_pages_{size}"), size, WORK,
                        samples=samples, log=log))


def _figures(results: dict[str, Any], postgres: bool, pg_databases: list[str],
             sizes: list[int], samples: int) -> None:
    results["figures_sqlite"] = {}
    for size in sizes:
        path = WORK / f"figures-{size}.sqlite"
        section(results["figures_sqlite"], str(size), f"Figures page, SQLite, {size:,} reports",
                lambda size=size, path=path: figure_page.measure(  # type: ignore[misc]
                    data.sqlite_url(path), size, WORK, samples=samples, log=log))
        if not os.environ.get("BENCH_KEEP"):
            for suffix in ("", "-wal", "-shm"):  # a million reports is several GB
                Path(f"{path}{suffix}").unlink(missing_ok=True)
    if postgres and os.environ.get("BENCH_FIGURES_POSTGRESQL"):
        results["figures_postgresql"] = {}
        for size in sizes:
            name = f"bench_figures_{size}"
            keep = bool(os.environ.get("BENCH_KEEP"))  # to look at the plans afterwards
            if not keep:
                pg_databases.append(name)
            section(results["figures_postgresql"], str(size),
                    f"Figures page, PostgreSQL, {size:,} reports",
                    lambda size=size, name=name: figure_page.measure(  # type: ignore[misc]
                        data.postgres_url(name), size, WORK, samples=samples, log=log))
            if not keep:
                with contextlib.suppress(Exception):  # free the disk for the next size
                    data.drop_postgres(name)


def budgets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Each budget of DESIGN.md with what was measured and whether it holds."""
    rows: list[dict[str, Any]] = []
    for key, label in (("throughput_sqlite", "SQLite"), ("throughput_postgresql",
                                                          "PostgreSQL + Redis")):
        figures = results.get(key)
        if not figures or "error" in figures:
            continue
        ratio = figures["ratio"] or 0.0
        rows.append({"budget": f"Pupil submission ≥ {BUDGET_RATIO:.0%} of bare insert ({label})",
                     "measured": f"{ratio:.0%} ({figures['portal']['req_per_s']} vs "
                                 f"{figures['bare']['req_per_s']} req/s)",
                     "ok": ratio >= BUDGET_RATIO})
    for key, label in (("pages_sqlite", "SQLite"), ("pages_postgresql", "PostgreSQL")):
        by_size = results.get(key) or {}
        small, large = by_size.get("1000"), by_size.get("100000")
        if not small or not large or "error" in small or "error" in large:
            continue
        for name in pages.queue_urls():
            base, big = small["pages"][name], large["pages"][name]
            growth = big["median_ms"] / base["median_ms"] if base["median_ms"] else 0.0
            rows.append({
                "budget": f"{name} at 100k < {BUDGET_QUEUE_MS:.0f} ms and ≤ "
                          f"{BUDGET_QUEUE_GROWTH}× 1k ({label})",
                "measured": f"{big['median_ms']} ms median (1k: {base['median_ms']} ms, "
                            f"{growth:.2f}×)",
                "ok": big["median_ms"] < BUDGET_QUEUE_MS and growth <= BUDGET_QUEUE_GROWTH})
        fixed = all(small["pages"][n]["queries"] == large["pages"][n]["queries"]
                    for n in pages.queue_urls())
        rows.append({"budget": f"Queue: a fixed number of SQL queries, 1k vs 100k ({label})",
                     "measured": ", ".join(
                         f"{n.split(' (')[0]}: {small['pages'][n]['queries']} → "
                         f"{large['pages'][n]['queries']}" for n in pages.queue_urls()),
                     "ok": fixed})
    rows += _figure_budgets(results)
    whole = results.get("school")
    if whole and "error" not in whole:
        ok = (whole["stored"] == whole["reports_sent"] == 1500 and whole["refused_429"] == 0
              and whole["errors"] == 0 and whole["stored_distinct_submissions"] == whole["stored"]
              and whole["distinct_codes"] == whole["confirmed"] == whole["stored"]
              and whole["seconds"] <= SCHOOL_WINDOW)
        rows.append({"budget": "A whole school (1,500 reports, one address) within 5 minutes: "
                               "all stored, none refused (SQLite, default settings)",
                     "measured": f"{whole['stored']} stored of {whole['reports_sent']} in "
                                 f"{whole['seconds']} s, {whole['refused_429']} refused, "
                                 f"{whole['errors']} errors, POST p95 {whole['post_p95_ms']} ms",
                     "ok": ok})
    return rows


def _figure_budgets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Issue 15: the figures page median under 300 ms at 1,000,000 reports, no more than 2×
    its time at 10,000, and a fixed number of queries whatever the period."""
    rows: list[dict[str, Any]] = []
    for key, label in (("figures_sqlite", "SQLite"), ("figures_postgresql", "PostgreSQL")):
        by_size = results.get(key) or {}
        small, large = by_size.get(FIGURES_SMALL), by_size.get(FIGURES_LARGE)
        if not small or not large or "error" in small or "error" in large:
            continue
        for name, big in large["pages"].items():
            base = small["pages"].get(name)
            if base is None:
                continue
            growth = big["median_ms"] / base["median_ms"] if base["median_ms"] else 0.0
            rows.append({
                "budget": f"{name} at 1M < {BUDGET_FIGURES_MS:.0f} ms and ≤ "
                          f"{BUDGET_FIGURES_GROWTH:.0f}× 10k ({label})",
                "measured": f"{big['median_ms']} ms median, p95 {big['p95_ms']} ms (10k: "
                            f"{base['median_ms']} ms, {growth:.2f}×)",
                "ok": big["median_ms"] < BUDGET_FIGURES_MS
                and growth <= BUDGET_FIGURES_GROWTH})
        names = [n for n in large["pages"] if n in small["pages"]]
        # The DSL's page for this term and for a school year is the same page: same count.
        periods = [n for n in names if n.startswith("figures: ")]
        fixed = (all(small["pages"][n]["queries"] == large["pages"][n]["queries"]
                     for n in names)
                 and len({by["pages"][n]["queries"] for by in (small, large)
                          for n in periods}) <= 1)
        rows.append({"budget": f"Figures: a fixed number of SQL queries, 10k vs 1M and this "
                               f"term vs a school year ({label})",
                     "measured": ", ".join(f"{n}: {small['pages'][n]['queries']} → "
                                           f"{large['pages'][n]['queries']}" for n in names),
                     "ok": fixed})
    return rows


def _render_figures(results: dict[str, Any]) -> list[str]:
    lines = ["## Figures page", "",
             "`/staff/figures` (issue 15), in-process like the staff pages: signed in as the "
             "DSL, the default period (this term so far) and the last whole school year (each "
             "with the same period a year before), the CSV of this term so far, and a trust "
             "lead's page (a term under way: its totals only) "
             "(a trust holding the bench school alone, so the trust's totals are worked out "
             "too); sequential, after warm-up, interleaved; rate limits off. Reports made by "
             "`portal seed` (two school years back from today); the seed's rollup rebuild "
             "(`portal.figures.rollup.rebuild`, what `portal figures-rebuild` and migration "
             "0021 cost) is timed on its own. Queries: SQL statements the page sends, "
             "session check included (the CSV writes its audit event too).", ""]
    present = False
    for key, label in (("figures_sqlite", "SQLite"), ("figures_postgresql", "PostgreSQL")):
        by_size = results.get(key)
        if not by_size:
            continue
        present = True
        ok_sizes = {k: v for k, v in by_size.items() if "error" not in v}
        for size, failed in by_size.items():
            if "error" in failed:
                lines.append(f"{label}, {int(size):,} reports: failed: {failed['error']}")
                lines.append("")
        if not ok_sizes:
            continue
        names = list(next(iter(ok_sizes.values()))["pages"])
        header = " | ".join(f"{int(k):,} reports: median / p95 (queries; reports in period)"
                            for k in ok_sizes)
        lines += [f"### {label}", "", f"| page | {header} |",
                  "|---|" + "---|" * len(ok_sizes)]
        for name in names:
            cells = []
            for figures_at in ok_sizes.values():
                p = figures_at["pages"].get(name)
                cells.append("–" if p is None else
                             f"{p['median_ms']} / {p['p95_ms']} ms ({p['queries']} queries; "
                             f"{p['reports_in_period']:,})")
            lines.append(f"| {name} | {' | '.join(cells)} |")
        lines += ["", "Seeding (of which the rollup rebuild): " + "; ".join(
            f"{int(k):,} reports: {v['note']}" if v.get("note") else
            f"{int(k):,} reports in {v['seed_seconds']} s ({v['rebuild_seconds']} s, "
            f"{v['figure_count_rows']:,} day-count rows)" for k, v in ok_sizes.items()), ""]
    if not present:
        return []
    if FIGURES_LARGE not in (results.get("figures_sqlite") or {}):
        lines += ["1,000,000 reports are not part of the default run (seeding them and "
                  "rebuilding their day counts takes many minutes): `BENCH_MILLION=1`; the "
                  "figures on PostgreSQL: `BENCH_FIGURES_POSTGRESQL=1`.", ""]
    return lines


def _fmt_errors(errors: dict[str, int]) -> str:
    return ", ".join(f"{k}: {v}" for k, v in errors.items()) or "none"


def render(results: dict[str, Any]) -> str:
    m = results["machine"]
    lines = [
        "# Benchmark results",
        "",
        f"Written by `make bench` (`python -m bench.run`) on {m['date']} in "
        f"{results['total_seconds']:.0f} s." + (" **Quick run: not for quoting.**"
                                                 if results["quick"] else ""),
        "",
        *[f"Sections re-run on their own (`BENCH_ONLY={','.join(r['sections'])}`) on "
          f"{r['date']} in {r['seconds']:.0f} s, load average {r['load_average'][0]} → "
          f"{r['load_average'][1]}; their figures replace those of the run above."
          + (f" {r['note']}" if r.get("note") else "")
          + (" **Quick run: not for quoting.**" if r["quick"] else "") + "\n"
          for r in results.get("partial_runs", [])],
        "## Machine",
        "",
        "| | |",
        "|---|---|",
        f"| CPUs (nproc) | {m['nproc']} |",
        f"| CPU | {m['cpu']} |",
        f"| RAM | {m['ram_gib']} GiB |",
        f"| OS | {m['os']} |",
        f"| Python | {m['python']} |",
        f"| SQLite | {m['sqlite']} |",
        f"| PostgreSQL | {m['postgresql']} |",
        f"| gunicorn / Flask / SQLAlchemy / Flask-Limiter | {m['gunicorn']} / {m['flask']} / "
        f"{m['sqlalchemy']} / {m['flask_limiter']} |",
        f"| Load average (1, 5, 15 min) at start → end | {m['load_average_at_start']} → "
        f"{m.get('load_average_at_end')} |",
        "",
        "The load generator runs on the same two cores as the servers.",
        "",
        "## Budgets (DESIGN.md)",
        "",
        "| budget | measured | holds? |",
        "|---|---|---|",
    ]
    for row in results["budgets"]:
        lines.append(f"| {row['budget']} | {row['measured']} | "
                     f"{'yes' if row['ok'] else '**no**'} |")
    lines += ["", "## Submission throughput: the pupil form vs a bare insert", ""]
    s = results["settings"]
    lines += [
        f"gunicorn with `gunicorn.conf.py`, {s['workers']} workers × {s['threads']} threads "
        f"for both; {s['concurrency']} client threads with keep-alive connections; "
        f"{s['rounds']} rounds of {s['round_seconds']:.0f} s each side, alternated A B A B, "
        "each round on freshly started servers after a 100-request warm-up. "
        "A = the real pupil form: every simulated pupil's browser has its own cookie jar "
        "and loads the form (CSRF and one-time submission tokens) before the clock starts; "
        "only the multipart POSTs are timed (the portal clears the form session after each "
        "report, so each report is one GET + POST session). Rate limits on, "
        "PORTAL_SCHOOL_NETWORKS=127.0.0.0/8 (per-device and per-network limits apply). "
        "B = `bench/bare_app.py`: parse the same multipart form, insert one row with "
        "SQLAlchemy, commit.",
        "",
        "| database | rate-limit storage | pupil form req/s (rounds) | bare insert req/s "
        "(rounds) | ratio | per-pair ratios | form POST median / p95 | bare median / p95 | "
        "429s | errors | stored = confirmed |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for key in ("throughput_sqlite", "throughput_postgresql"):
        t = results.get(key)
        if not t:
            continue
        if "error" in t:
            lines.append(f"| {key} | failed: {t['error']} |||||||||")
            continue
        a, b = t["portal"], t["bare"]
        lines.append(
            f"| {t['database']} | {t['rate_limit_storage']} | {a['req_per_s']} "
            f"({', '.join(map(str, a['rounds_req_per_s']))}) | {b['req_per_s']} "
            f"({', '.join(map(str, b['rounds_req_per_s']))}) | **{t['ratio']:.2f}** | "
            f"{', '.join(f'{x:.2f}' for x in t['pair_ratios'])} | {a['median_ms']} / "
            f"{a['p95_ms']} ms | {b['median_ms']} / {b['p95_ms']} ms | "
            f"{a['refused_429'] + b['refused_429']} | "
            f"{_fmt_errors({**a['errors'], **b['errors']})} | "
            f"{t['stored_reports'] == t['confirmed_reports']} "
            f"({t['stored_reports']}), {t['stored_bare_rows'] == t['confirmed_bare_rows']} "
            f"({t['stored_bare_rows']}) |")
    lines += ["", "## Staff pages", "",
              "In-process (Flask test client: session check, queries, template; no network), "
              "signed in as the DSL, sequential, after warm-up; rate limits off. Reports made "
              "by `portal seed` (about two school years, mostly closed, 1,000–2,000 pupils); "
              "one extra pupil is linked to 200 reports for the case and chronology pages.",
              ""]
    for key, label in (("pages_sqlite", "SQLite"), ("pages_postgresql", "PostgreSQL")):
        by_size = results.get(key)
        if not by_size:
            continue
        ok_sizes = {k: v for k, v in by_size.items() if "error" not in v}
        for size, failed in by_size.items():
            if "error" in failed:
                lines.append(f"{label}, {int(size):,} reports: failed: {failed['error']}")
        if not ok_sizes:
            continue
        names = list(next(iter(ok_sizes.values()))["pages"])
        header = " | ".join(f"{int(k):,} reports: median / p95 (queries)" for k in ok_sizes)
        lines += [f"### {label}", "", f"| page | {header} |",
                  "|---|" + "---|" * len(ok_sizes)]
        for name in names:
            cells = []
            for figures in ok_sizes.values():
                p = figures["pages"][name]
                matching = f", {p['matching']:,} match" if p.get("matching") is not None else ""
                cells.append(f"{p['median_ms']} / {p['p95_ms']} ms ({p['queries']} "
                             f"queries{matching})")
            lines.append(f"| {name} | {' | '.join(cells)} |")
        lines += ["", "Seeding: " + "; ".join(
            f"{int(k):,} reports in {v['seed_seconds']} s ({v['pupil_links']:,} pupil links, "
            f"{v['events']:,} events)" for k, v in ok_sizes.items()), ""]
    if "pages_postgresql" not in results:
        lines += ["The staff pages on PostgreSQL are not part of the default run (seeding "
                  "100,000 reports there and measuring takes about two minutes more than the "
                  "ten-minute budget of `make bench` leaves); `BENCH_PAGES_POSTGRESQL=1 make "
                  "bench` includes them.", ""]
    if 1_000_000 not in results["settings"]["queue_sizes"]:
        lines += ["1,000,000 reports are not part of the default run: seeding them on SQLite "
                  "and measuring them takes several minutes on this machine, beyond the "
                  "ten-minute budget of `make bench`. Run `BENCH_MILLION=1 make bench` for "
                  "them.", ""]
    lines += _render_figures(results)
    w = results.get("school")
    lines += ["## A whole school at once", ""]
    if w and "error" not in w:
        lines += [
            f"SQLite, default server settings ({w['workers']} gunicorn workers × 2 threads, "
            "rate limits on in memory), PORTAL_SCHOOL_NETWORKS=127.0.0.0/8. "
            f"{w['tablets']} tablets ({w['kiosks_enrolled']} enrolled as kiosks, so each has "
            "its own limit of 20 reports a minute), each with one cookie jar for the whole "
            f"run, loading the form and sending a report every "
            f"{w['pace_seconds_per_tablet']} s.",
            "",
            "| sent | stored | distinct submissions | confirmed (distinct codes) | refused (429) "
            "| errors | time | POST median / p95 | form p95 |",
            "|---|---|---|---|---|---|---|---|---|",
            f"| {w['reports_sent']} | {w['stored']} | {w['stored_distinct_submissions']} | "
            f"{w['confirmed']} ({w['distinct_codes']}) | {w['refused_429']} | {w['errors']} | "
            f"{w['seconds']} s | {w['post_median_ms']} / {w['post_p95_ms']} ms | "
            f"{w['form_p95_ms']} ms |", ""]
    elif w:
        lines += [f"Failed: {w['error']}", ""]
    lines += ["## Memory", "", "Peak resident memory (VmHWM) of each gunicorn worker, read from "
              "/proc before the servers stopped:", ""]
    for key in ("throughput_sqlite", "throughput_postgresql"):
        t = results.get(key)
        if t and "error" not in t:
            peaks = t["peak_worker_rss_mib"]
            lines.append(f"- {t['database']} throughput, last round: pupil form workers "
                         f"{peaks.get('A')} MiB; bare insert workers {peaks.get('B')} MiB")
    if w and "error" not in w:
        lines.append(f"- Whole school (SQLite, default settings): workers "
                     f"{w['peak_worker_rss_mib']} MiB")
    lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
