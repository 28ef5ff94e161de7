"""Every response, pages and errors alike, carries the strict headers of SECURITY.md P3, and no
page loads anything from another origin."""

from __future__ import annotations

import re
from collections.abc import Callable
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from sqlalchemy import select
from werkzeug.routing import IntegerConverter

from portal.config import PACKAGE_DIR
from portal.models import Pupil, Report, Role, Trust
from tests.conftest import PARENT, PUPIL, followup_code, hidden_fields

LOCAL_HOSTS = {"", "localhost", "localhost:80"}
URL_ATTRIBUTES = {"src", "href", "action", "formaction", "srcset", "poster", "data", "cite",
                  "background", "manifest", "xlink:href", "ping"}
ROLES = [None, Role.DSL, Role.DEPUTY_DSL, Role.STAFF, Role.HEAD, Role.ADMIN, Role.TRUST_LEAD]


@pytest.fixture
def app(app: Flask) -> Flask:
    """The portal plus one route that always fails, to see the real 500 page."""
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.route("/__test__/boom")
    def boom() -> str:
        raise RuntimeError("forced failure for the header test")

    return app


def assert_strict_headers(response: Any, path: str) -> None:
    """The P3 headers: CSP without inline code, no framing, nosniff, no referrer, no sensors."""
    headers = response.headers
    where = f"{response.status_code} {path}"
    csp = headers.get("Content-Security-Policy", "")
    assert csp, f"no CSP on {where}"
    assert "'unsafe-inline'" not in csp, where
    assert "frame-ancestors 'none'" in csp, where
    assert headers.get("X-Content-Type-Options") == "nosniff", where
    assert headers.get("Referrer-Policy") == "no-referrer", where
    permissions = headers.get("Permissions-Policy", "")
    for feature in ("geolocation=()", "camera=()", "microphone=()"):
        assert feature in permissions, f"{feature} missing on {where}"
    if not path.startswith("/static/"):
        assert "no-store" in headers.get("Cache-Control", ""), f"cacheable: {where}"


class _Resources(HTMLParser):
    """Every URL a page points at, and any inline script or style that the CSP would block."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[tuple[str, str, str]] = []
        self.inline: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in URL_ATTRIBUTES and value:
                parts = value.split(",") if name == "srcset" else [value]
                self.urls.extend((tag, name, p.strip().split(" ")[0]) for p in parts)
            elif name.startswith("on") or name == "style":
                self.inline.append(f"<{tag} {name}=...>")
        a = dict(attrs)
        if tag == "script" and not a.get("src"):
            self.inline.append("<script> without src")
        if tag == "style":
            self.inline.append("<style> element")
        if tag == "meta" and (a.get("http-equiv") or "").lower() == "refresh":
            self.urls.append((tag, "content", (a.get("content") or "").partition("url=")[2]))


def assert_nothing_from_elsewhere(response: Any, path: str) -> None:
    """No src/href/action to another origin, no javascript: URLs, no inline script or style."""
    if response.mimetype != "text/html":
        return
    parser = _Resources()
    parser.feed(response.get_data(as_text=True))
    # A redirect's stock body links to its own Location; browsers follow the header instead.
    allowed = {response.headers["Location"]} if 300 <= response.status_code < 400 else set()
    for tag, attribute, url in parser.urls:
        if url in allowed:
            continue
        assert urlsplit(url).netloc.lower() in LOCAL_HOSTS, f"{path}: <{tag} {attribute}={url}>"
        assert not url.lower().startswith(("javascript:", "vbscript:")), f"{path}: {url}"
    assert not parser.inline, f"{path}: {parser.inline}"


def assert_friendly(response: Any) -> None:
    body = response.get_data(as_text=True)
    assert "Traceback" not in body
    assert body.lstrip().lower().startswith("<!doctype html>")
    assert "<h1" in body
    assert "/static/css/portal.css" in body


def check(response: Any, path: str) -> None:
    assert_strict_headers(response, path)
    assert_nothing_from_elsewhere(response, path)


@pytest.fixture
def ids(school: Any, make_report: Any, session: Any) -> dict[str, Any]:
    """Real values for every URL parameter of the portal's routes."""
    report, _ = make_report(school)
    pupil = Pupil(school_id=school.id, upn="A123456789012", first_name="Robin", last_name="Oak")
    session.add(pupil)
    session.commit()
    return {
        "slug": school.slug,
        "report_id": report.id,
        "pupil_id": pupil.id,
        "adult_id": school.trusted_adults[0].id,
        "filename": "css/portal.css",
    }


def every_url(app: Flask, ids: dict[str, Any]) -> list[str]:
    """One URL per rule of app.url_map, real ids filled in; the quick exit (drops cookies) last."""
    urls = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "boom":
            continue
        values = {
            arg: ids.get(arg, 1 if isinstance(rule._converters.get(arg), IntegerConverter)
                         else "x")
            for arg in rule.arguments
        }
        built = rule.build(values, append_unknown=False)
        assert built, rule.rule
        urls.append(built[1])
    return sorted(set(urls), key=lambda u: (u.startswith("/exit"), u))


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.value if r else "public")
def test_every_route_answers_get_with_strict_headers(role, app, client, browser, school,
                                                     session, make_user, ids):
    """GET on every rule of app.url_map, signed out and as each role: strict headers, no 500."""
    if role is not None:
        trust = Trust(name="Test Trust")
        session.add(trust)
        session.flush()
        school.trust_id = trust.id
        session.commit()
        user = make_user(role, None if role == Role.TRUST_LEAD else school, trust_id=trust.id)
        assert browser.login(user.email).status_code == 302
    urls = every_url(app, ids)
    assert "/staff/" in urls
    assert f"/staff/cases/{ids['report_id']}" in urls
    assert f"/staff/pupils/{ids['pupil_id']}" in urls
    for url in urls:
        with client.get(url) as response:  # closing it closes a static file's handle
            assert response.status_code < 500, f"{response.status_code} {url}"
            check(response, url)
            if response.status_code >= 400:
                assert_friendly(response)


def test_the_quick_exit_redirects_elsewhere_only_by_location(client, school):
    """The one external address is the quick exit's Location header, never a link in a page."""
    response = client.get(f"/exit?s={school.slug}")
    assert response.status_code in (302, 303)
    assert response.headers["Location"] == school.exit_url
    check(response, "/exit")


def _too_many_guesses(client: Any) -> Any:
    fields = hidden_fields(client.get("/follow-up").get_data(as_text=True), "/follow-up")
    for guess in range(10):
        client.post("/follow-up", data={**fields, "code": f"{guess:020d}"})
    return client.post("/follow-up", data={**fields, "code": "0" * 20})


ERRORS: dict[str, tuple[int, Callable[[Any], Any]]] = {
    "400 csrf": (400, lambda c: c.post("/follow-up", data={"code": "1"})),
    "404 page": (404, lambda c: c.get("/no/such/page")),
    "404 school": (404, lambda c: c.get("/s/nowhere/pupil")),
    "405": (405, lambda c: c.put("/follow-up")),
    "413": (413, lambda c: c.post("/follow-up", data={"code": "1" * (1024 * 1024 + 1)})),
    "429": (429, _too_many_guesses),
    "500": (500, lambda c: c.get("/__test__/boom")),
}


@pytest.mark.parametrize("case", ERRORS)
def test_error_responses_carry_the_headers_and_the_friendly_page(case, client, school):
    """Forced 400/404/405/413/429/500: the friendly page, strict headers, no traceback."""
    status, make = ERRORS[case]
    response = make(client)
    assert response.status_code == status
    check(response, case)
    assert_friendly(response)
    assert "forced failure" not in response.get_data(as_text=True)


def test_staff_errors_carry_the_headers(client, browser, school, make_user):
    """A signed-in DSL asking for a case that does not exist: 404 with the headers."""
    assert browser.login(make_user(Role.DSL, school).email).status_code == 302
    response = client.get("/staff/cases/999999")
    assert response.status_code == 404
    check(response, "/staff/cases/999999")
    assert_friendly(response)


def test_pages_reached_by_post_carry_the_headers(client, browser, school, make_user, session):
    """Confirmation pages, the follow-up status, refusals and the case page after a decision."""
    pupil_done = browser.submit("/s/oakfield/pupil", PUPIL)
    parent_done = browser.submit("/s/oakfield/parent", PARENT)
    status = browser.submit("/follow-up",
                            {"code": followup_code(pupil_done.get_data(as_text=True))})
    refused = browser.submit("/s/oakfield/pupil", {**PUPIL, "feels_safe": ""})
    bad_login = browser.submit("/staff/login", {"email": "nobody@school.test",
                                                "password": "wrong password here"})
    responses = {"pupil done": pupil_done, "parent done": parent_done, "status": status,
                 "refused": refused, "bad login": bad_login}
    assert browser.login(make_user(Role.DSL, school).email).status_code == 302
    case = f"/staff/cases/{session.scalars(select(Report.id)).first()}"
    responses["decision"] = browser.submit(
        case, {"category": "bullying_incident", "reason": "Seen on camera twice."},
        action=f"{case}/decision", follow_redirects=True)
    assert [r.status_code for r in responses.values()] == [200, 200, 200, 400, 200, 200]
    for name, response in responses.items():
        check(response, name)


def test_static_css_and_js_fetch_nothing_from_another_origin():
    """The stylesheet and script load no fonts, images or code from elsewhere."""
    external = re.compile(r"""url\(\s*['"]?(?:[a-z]+:)?//|@import|\bfetch\(\s*['"]https?:|"""
                          r"""['"]https?://""", re.IGNORECASE)
    files = [*(PACKAGE_DIR / "static").rglob("*.css"), *(PACKAGE_DIR / "static").rglob("*.js")]
    assert files
    for path in files:
        match = external.search(path.read_text())
        assert match is None, f"{path.name}: {match.group(0) if match else ''}"
