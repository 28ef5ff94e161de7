"""Health and metrics (issue 18): /readyz says whether the database and the rate-limit
storage answer; /metrics is off unless PORTAL_METRICS_FROM allows the asker, counts and
times requests by route name, tells how long the oldest email has waited, and says
nothing about any person or report."""

from __future__ import annotations

import dataclasses
import ipaddress
from datetime import timedelta

import pytest

from portal import create_app
from portal.models import OutboxMessage, utcnow
from portal.security import limiter


def metrics_app(settings, networks: str):
    allowed = tuple(ipaddress.ip_network(n) for n in networks.split(","))
    return create_app(dataclasses.replace(settings, metrics_from=allowed))


def test_metrics_are_off_unless_configured(client):
    assert client.get("/metrics").status_code == 404


def test_metrics_answer_only_the_configured_addresses(settings):
    app = metrics_app(settings, "10.9.0.0/16")
    try:
        client = app.test_client()
        assert client.get("/metrics").status_code == 404  # 127.0.0.1 is not in it
        allowed = client.get("/metrics", environ_base={"REMOTE_ADDR": "10.9.1.2"})
        assert allowed.status_code == 200
        # A forged X-Forwarded-For does not make an outside address an allowed one
        forged = client.get("/metrics", headers={"X-Forwarded-For": "10.9.1.2"})
        assert forged.status_code == 404
    finally:
        app.extensions["portal.engine"].dispose()


def test_metrics_count_and_time_requests_by_route_and_say_nothing_of_anyone(
        settings, school, make_report, session):
    report, code = make_report(school, what_happened="Secret words about Aisha Khan")
    waiting = OutboxMessage(to_address="dsl@oakfield.test", subject="New report",
                            body="x", kind="new_report", school_id=school.id,
                            send_after=utcnow() - timedelta(minutes=7))
    session.add(waiting)
    session.commit()
    app = metrics_app(settings, "127.0.0.1/32")
    try:
        client = app.test_client()
        client.get(f"/s/{school.slug}/pupil")
        client.get(f"/staff/cases/{report.id}")
        client.open("/healthz", method="FOO")
        body = client.get("/metrics").get_data(as_text=True)
    finally:
        app.extensions["portal.engine"].dispose()
    assert 'tellus_http_requests_total{endpoint="reporting.pupil_form",method="GET",' \
           'status="2xx"}' in body
    assert 'tellus_http_request_duration_seconds_bucket{endpoint="reporting.pupil_form"' in body
    assert 'method="other"' in body
    assert "FOO" not in body
    assert "tellus_outbox_waiting 1.0" in body
    oldest = next(line for line in body.splitlines()
                  if line.startswith("tellus_outbox_oldest_waiting_seconds "))
    assert 7 * 60 <= float(oldest.split()[1]) < 8 * 60
    assert 'endpoint="triage.case"' in body  # the route's name, never the path asked for
    for secret in (school.slug, f"/cases/{report.id}", "Aisha", "127.0.0.1", code,
                   "dsl@oakfield.test"):
        assert secret not in body, secret


def test_ready_when_the_database_and_the_limiter_storage_answer(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ready"}


def test_not_ready_when_the_limiter_storage_is_down(client, app, monkeypatch):
    monkeypatch.setattr(type(limiter.storage), "check", lambda self: False)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["problems"] == ["rate-limit storage unavailable"]


@pytest.mark.parametrize("path", ["/readyz", "/healthz"])
def test_not_ready_when_the_database_is_down(settings, path, tmp_path):
    broken = dataclasses.replace(settings, database_url=f"sqlite:///{tmp_path}/no/such/dir.db")
    app = create_app(broken)
    try:
        response = app.test_client().get(path)
    finally:
        app.extensions["portal.engine"].dispose()
    assert response.status_code == 503


def test_two_gunicorn_workers_are_counted_together(tmp_path):
    """With PROMETHEUS_MULTIPROC_DIR, a scrape adds up every worker: 40 requests to the
    pupil form over two workers are 40 in /metrics, whichever worker answers the scrape."""
    from tests.app.gunicorn_server import Client, gunicorn, migrated_sqlite, portal_env

    shared = tmp_path / "prometheus"
    shared.mkdir()
    env = portal_env(tmp_path, migrated_sqlite(tmp_path / "portal.sqlite"),
                     PORTAL_METRICS_FROM="127.0.0.1/32", PROMETHEUS_MULTIPROC_DIR=str(shared))
    with gunicorn(tmp_path, env, workers=2) as server:
        for _ in range(40):
            status, _body = Client(server.base).request("/s/oakfield/pupil")
            assert status == 200
        pids = {path.name.split("_")[-1] for path in shared.glob("*.db")}
        _status, body = Client(server.base).request("/metrics")
    line = 'tellus_http_requests_total{endpoint="reporting.pupil_form",method="GET",' \
           'status="2xx"} 40.0'
    assert line in body, body[:2000]
    assert len(pids) >= 2, "only one worker answered"
