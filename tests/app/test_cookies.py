"""The one cookie ("tellus") and its attributes (SECURITY.md P6 and P4).

P6: staff session cookies are HttpOnly, SameSite=Lax or stricter, Secure under TLS, and there
is no remember-me (Flask-Login's default remember cookie lasts 365 days and is not Secure).
P4: on public pages the cookie is a browser-session cookie (no expiry) holding nothing but the
CSRF token; the quick exit clears cookies and storage.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from http.cookies import SimpleCookie
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from portal import create_app, visit
from portal.auth import devices
from portal.config import Settings
from portal.errors import CSRF_MESSAGE
from portal.security import limiter
from tests.conftest import PUPIL, Browser, followup_code

COOKIE = "tellus"


class RecordingClient(FlaskClient):
    """A test client that keeps every response, to see every Set-Cookie ever sent."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.responses: list[Any] = []
        self.https = False

    def open(self, *args: Any, **kwargs: Any) -> Any:
        plain_url = not args or isinstance(args[0], str)
        if self.https and plain_url and not kwargs.get("base_url"):
            kwargs["base_url"] = "https://localhost"
        response = super().open(*args, **kwargs)
        self.responses.append(response)
        return response

    def set_cookies(self) -> list[tuple[str, Any]]:
        """(name, morsel) for every Set-Cookie header of every response so far."""
        found = []
        for response in self.responses:
            for header in response.headers.getlist("Set-Cookie"):
                parsed: SimpleCookie = SimpleCookie()
                parsed.load(header)
                found.extend((name, morsel) for name, morsel in parsed.items())
        return found


def recording(app: Flask) -> RecordingClient:
    app.test_client_class = RecordingClient
    client = app.test_client()
    assert isinstance(client, RecordingClient)
    return client


def is_deletion(morsel: Any) -> bool:
    """A Set-Cookie that removes the cookie (empty value, expired) rather than sets it."""
    return morsel.value == "" and (morsel["max-age"] in ("0", 0) or "1970" in morsel["expires"])


def raw_attributes(client: RecordingClient, name: str) -> list[str]:
    """The raw Set-Cookie headers for ``name`` that set (not delete) it."""
    headers = []
    for response in client.responses:
        for header in response.headers.getlist("Set-Cookie"):
            if header.startswith(f"{name}=") and not header.startswith(f"{name}=;"):
                headers.append(header)
    return headers


def decoded(app: Flask, client: FlaskClient) -> dict[str, Any]:
    cookie = client.get_cookie(COOKIE)
    assert cookie is not None, "no session cookie"
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    data: dict[str, Any] = serializer.loads(cookie.value)
    return data


# --- staff ----------------------------------------------------------------------------------


def assert_staff_cookie(client: RecordingClient, *, secure: bool) -> None:
    sets = [(n, m) for n, m in client.set_cookies() if not is_deletion(m)]
    assert sets, "no cookie was set during sign-in"
    names = {name for name, _ in client.set_cookies()}
    # Besides the session: the sign-in throttle's device cookie (OWASP's device cookies;
    # it signs nobody in, it only gives this browser its own budget of sign-in tries).
    assert names == {COOKIE, devices.COOKIE}, f"unexpected cookies: {names}"
    assert not any("remember" in name.lower() for name in names)
    for header in raw_attributes(client, devices.COOKIE):
        attributes = [part.strip().lower() for part in header.split(";")[1:]]
        assert {"httponly", "samesite=strict", "path=/staff"} <= set(attributes), header
        assert ("secure" in attributes) == secure, header
    for header in raw_attributes(client, COOKIE):
        attributes = [part.strip().lower() for part in header.split(";")[1:]]
        assert "httponly" in attributes, header
        assert "samesite=lax" in attributes or "samesite=strict" in attributes, header
        assert not any(a.startswith(("expires=", "max-age=")) for a in attributes), header
        assert ("secure" in attributes) == secure, header


def test_staff_session_cookie_is_httponly_lax_and_ends_with_the_browser(app, school, make_user):
    client = recording(app)
    browser = Browser(client)
    dsl = make_user(school=school)
    browser.get("/staff/login")
    assert browser.login(dsl.email).status_code == 302
    assert browser.get("/staff/").status_code == 200
    cookie = client.get_cookie(COOKIE)
    assert cookie is not None
    assert cookie.expires is None
    assert cookie.max_age is None
    assert_staff_cookie(client, secure=False)
    # Flask-Login's remember-me cookie is never set, whatever the sign-in path.
    assert client.get_cookie("remember_token") is None
    # The signed cookie holds no password, no second-factor code and no report data.
    data = decoded(app, client)
    assert not {"password", "otp", "remember", "_remember"} & data.keys(), data


@pytest.fixture
def secure_app(settings: Settings) -> Iterator[Flask]:
    """The portal as it runs under TLS: secure_cookies on."""
    application = create_app(replace(settings, secure_cookies=True))
    with application.app_context():
        limiter.reset()
    yield application
    with application.app_context():
        limiter.reset()
    application.extensions["portal.engine"].dispose()


def https_client(app: Flask, *, referer: bool) -> RecordingClient:
    client = recording(app)
    client.https = True
    if referer:
        # Flask-WTF's strict check under HTTPS wants a same-origin Referer on every POST.
        client.environ_base["HTTP_REFERER"] = "https://localhost/"
    return client


def test_under_tls_the_staff_cookie_is_secure(secure_app, school, make_user):
    client = https_client(secure_app, referer=True)
    browser = Browser(client)
    dsl = make_user(school=school)
    assert browser.login(dsl.email).status_code == 302
    assert browser.get("/staff/").status_code == 200
    assert_staff_cookie(client, secure=True)
    assert client.get_cookie(COOKIE).secure


def test_public_cookie_is_secure_under_tls_too(secure_app, school):
    client = https_client(secure_app, referer=True)
    page = client.get("/s/oakfield/pupil")
    assert page.status_code == 200
    assert page.headers.get("Strict-Transport-Security")  # the request really was HTTPS
    headers = raw_attributes(client, COOKIE)
    assert headers
    assert all("secure" in h.lower().split("; ") for h in headers), headers


def test_under_tls_a_report_from_a_browser_without_referer_is_stored(secure_app, school):
    """Under HTTPS a browser sends no Referer (no-referrer policy); reports still go in."""
    client = https_client(secure_app, referer=False)  # as Chromium does under no-referrer
    done = Browser(client).submit("/s/oakfield/pupil", PUPIL)
    assert CSRF_MESSAGE not in done.get_data(as_text=True)
    assert done.status_code == 200


# --- public pages ---------------------------------------------------------------------------


def only_tokens(data: dict[str, Any]) -> bool:
    """The CSRF token, and the visit's digests of the one-time values its forms carry
    (portal.visit): opaque hex, never the values themselves, words or codes."""
    assert set(data) <= {"csrf_token", visit.FORMS, visit.PASSES}, data
    for purpose in (visit.FORMS, visit.PASSES):
        assert all(re.fullmatch(r"[0-9a-f]{24}", d) for d in data.get(purpose, [])), data
    return True


def test_public_cookie_is_a_session_cookie_holding_only_the_csrf_token(app, school):
    client = recording(app)
    browser = Browser(client)
    assert browser.get("/s/oakfield/pupil").status_code == 200
    cookie = client.get_cookie(COOKIE)
    assert cookie is not None
    assert cookie.expires is None
    assert cookie.max_age is None
    assert only_tokens(decoded(app, client))

    done = browser.submit("/s/oakfield/pupil", {**PUPIL, "what_happened": "Cookie marker words"})
    assert done.status_code == 200
    code = followup_code(done.get_data(as_text=True))
    assert browser.submit("/follow-up", {"code": code}).status_code == 200
    assert only_tokens(decoded(app, client))
    raw = client.get_cookie(COOKIE).value
    assert "Cookie" not in raw
    assert code.replace("-", "") not in raw.replace("-", "")
    for header in raw_attributes(client, COOKIE):
        attributes = [part.strip().lower() for part in header.split(";")[1:]]
        assert not any(a.startswith(("expires=", "max-age=")) for a in attributes), header
        assert "httponly" in attributes, header
        assert "samesite=lax" in attributes, header
    assert {name for name, _ in client.set_cookies()} == {COOKIE}


def test_quick_exit_clears_cookies_and_storage(app, school):
    client = recording(app)
    assert client.get("/s/oakfield/pupil").status_code == 200
    assert client.get_cookie(COOKIE) is not None
    response = client.get(f"/exit?s={school.slug}")
    assert response.status_code == 303
    assert response.headers["Location"] == school.exit_url == "https://www.bbc.co.uk/bitesize"
    clear = response.headers.get("Clear-Site-Data", "")
    assert '"cookies"' in clear, clear
    assert '"storage"' in clear, clear
    deletions = [m for name, m in client.set_cookies()[-1:] if name == COOKIE]
    assert deletions
    assert is_deletion(deletions[0])
    assert client.get_cookie(COOKIE) is None


def test_quick_exit_without_a_school_still_clears_everything(client):
    response = client.get("/exit")
    assert response.status_code == 303
    assert '"cookies"' in response.headers.get("Clear-Site-Data", "")
    assert any(h.startswith(f"{COOKIE}=;") for h in response.headers.getlist("Set-Cookie"))


def test_a_post_from_another_site_is_refused(app, school, session):
    """The Origin check that stands in for the Referer check: a cross-site form gets 400."""
    from sqlalchemy import func, select

    from portal.models import Report
    browser = Browser(app.test_client())
    response = browser.submit("/s/oakfield/pupil", PUPIL,
                              headers={"Origin": "https://evil.example"})
    assert response.status_code == 400
    assert session.scalar(select(func.count()).select_from(Report)) == 0
