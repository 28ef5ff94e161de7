"""Readiness and metrics for the IT provider (issue 18).

- ``GET /readyz``: 200 when the database and the rate-limit storage both answer, else 503
  saying which does not (``/healthz`` stays: the database only). For a load balancer.
- ``GET /metrics``: Prometheus' text format, **off** unless ``PORTAL_METRICS_FROM`` names
  the networks allowed to read it (the Prometheus server's address, say); anyone else gets
  404, as if there were no such page. It counts requests by route name, method and status
  class, times them, and says how many emails wait in the outbox and for how long the oldest
  has waited (an urgent alert stuck shows there). Nothing about any person or report: no
  address, no school, no id, no words; route names are the code's (``triage.case``), never
  the path that was asked for.

Several gunicorn workers: set ``PROMETHEUS_MULTIPROC_DIR`` to an empty folder before they
start (gunicorn.conf.py clears it on a worker's exit), and each scrape adds up every worker.
Without it, each scrape reads the one worker that answered.
"""

from __future__ import annotations

import ipaddress
import os
import time
from collections.abc import Iterator

from flask import Blueprint, Flask, Response, abort, current_app, g, request
from flask.typing import ResponseReturnValue
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError

from .db import get_session
from .models import OutboxMessage, utcnow
from .security import limiter

bp = Blueprint("metrics", __name__)
# A label's values are bounded: any other method (a scanner's "FOO") counts as "other"
METHODS = frozenset({"GET", "HEAD", "POST", "OPTIONS"})

REQUESTS = Counter("tellus_http_requests", "Requests answered, by route name, method and "
                   "status class", ["endpoint", "method", "status"])
LATENCY = Histogram("tellus_http_request_duration_seconds", "Time to answer, by route name",
                    ["endpoint"], buckets=(.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10))


class OutboxCollector(Collector):
    """Emails waiting to be sent, read from the database when Prometheus asks."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        waiting = GaugeMetricFamily("tellus_outbox_waiting",
                                    "Emails due and not sent yet")
        oldest = GaugeMetricFamily("tellus_outbox_oldest_waiting_seconds",
                                   "How long the oldest email due has waited")
        try:
            now = utcnow()
            count, first = get_session().execute(
                select(func.count(), func.min(OutboxMessage.send_after)).where(
                    OutboxMessage.sent_at.is_(None), OutboxMessage.send_after <= now)).one()
        except SQLAlchemyError:
            return
        waiting.add_metric([], float(count))
        oldest.add_metric([], max(0.0, (now - first).total_seconds()) if first else 0.0)
        yield waiting
        yield oldest


def _allowed(networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]) -> bool:
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    return any(address in network for network in networks)


@bp.route("/metrics")
@limiter.exempt
def metrics() -> ResponseReturnValue:
    networks = current_app.config["PORTAL_SETTINGS"].metrics_from
    if not networks or not _allowed(networks):
        abort(404)
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry.register(REQUESTS)
        registry.register(LATENCY)
    registry.register(OutboxCollector())
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)


@bp.route("/readyz")
@limiter.exempt
def readyz() -> ResponseReturnValue:
    problems = []
    try:
        get_session().execute(text("SELECT 1"))
    except SQLAlchemyError:
        problems.append("database unavailable")
    try:
        storage_ok = limiter.storage.check()
    except Exception:  # a storage that cannot even be asked is not ready either
        storage_ok = False
    if not storage_ok:
        problems.append("rate-limit storage unavailable")
    if problems:
        return {"status": "not ready", "problems": problems}, 503
    return {"status": "ready"}


def _start() -> None:
    g.metrics_started = time.perf_counter()


def _finish(response: Response) -> Response:
    started = g.pop("metrics_started", None)
    if started is not None:
        endpoint = request.endpoint or "not_found"
        method = request.method if request.method in METHODS else "other"
        REQUESTS.labels(endpoint, method, f"{response.status_code // 100}xx").inc()
        LATENCY.labels(endpoint).observe(time.perf_counter() - started)
    return response


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.before_request(_start)
    app.after_request(_finish)


__all__ = ["init_app"]
