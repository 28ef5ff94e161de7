"""Signing in with the school's own accounts (issue 18: "Single sign-on (OpenID Connect)"),
against a real OpenID Connect provider on loopback (tests/oidc_provider.py): a teacher signs
in; a token for another service, from another sign-in or forged is refused; an unverified
or foreign address, an account at another school and a switched-off account are refused;
a provider without a second factor leaves the portal's own; signing out ends both."""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from sqlalchemy import select

from portal.admin import sso_settings
from portal.auth import sso
from portal.events import Action
from portal.models import Event, Role, SsoProvider, StaffSession, Trust, User
from portal.models.user import NO_PASSWORD, SSO_ONLY
from tests import oidc_provider
from tests.conftest import TOTP_SECRETS, hidden_fields, next_code

BASE = "http://127.0.0.1:5000"  # the settings' PORTAL_BASE_URL (tests/conftest.py)
CALLBACK = f"{BASE}/staff/login/sso/callback"
SIGNED_OUT = f"{BASE}/staff/login"


@pytest.fixture(scope="module")
def idp() -> Iterator[oidc_provider.Provider]:
    with oidc_provider.running([CALLBACK], [SIGNED_OUT]) as provider:
        yield provider


@pytest.fixture
def provider(app: Any, session: Any, school: Any, idp: oidc_provider.Provider) -> SsoProvider:
    """Oakfield's provider, switched on for oakfield.sch.uk, set up as its administrator
    would on the settings page."""
    app.config["PORTAL_SSO_HTTP_LOOPBACK"] = True
    sso.forget(idp.issuer)
    admin = User(email="office@oakfield.sch.uk", password_hash=NO_PASSWORD, role=Role.ADMIN,
                 school_id=school.id)
    session.add(admin)
    session.flush()
    row = sso_settings.save(
        session, sso_settings.Scope(school.id, None), actor=admin, label="Oakfield account",
        issuer=idp.issuer, client_id=oidc_provider.CLIENT_ID,
        client_secret=oidc_provider.CLIENT_SECRET, domains="oakfield.sch.uk", enabled=True,
        allow_http_loopback=True)
    session.commit()
    return row


def _start(client: Any, email: str, next_url: str | None = None) -> str:
    """Ask the portal to sign in ``email`` with the school account: the provider's URL."""
    page = client.get("/staff/login/sso" + (f"?next={next_url}" if next_url else ""))
    assert page.status_code == 200
    action = "/staff/login/sso"
    fields = hidden_fields(page.get_data(as_text=True), action)
    response = client.post(action + (f"?next={next_url}" if next_url else ""),
                           data={**fields, "email": email})
    return _leaving(response)


def _leaving(response: Any) -> str:
    """Where a page that leaves for the provider goes: at once by its refresh, and by its
    link (not a redirect: the form-action CSP would stop a form's redirect there)."""
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.headers["Cache-Control"] == "no-store"
    text = response.get_data(as_text=True)
    refresh = re.search(r'<meta http-equiv="refresh" content="0;url=([^"]+)">', text)
    assert refresh, text[:500]
    url = html.unescape(refresh.group(1))
    assert f'href="{refresh.group(1)}"' in text  # the same place by the link
    return url


def _back(client: Any, location: str) -> Any:
    """The provider's redirect back, arriving at the portal."""
    parts = urlsplit(location)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == CALLBACK, location
    return client.get(f"{parts.path}?{parts.query}")


def _sign_in(client: Any, idp: oidc_provider.Provider, email: str, **kw: Any) -> Any:
    return _back(client, idp.sign_in(_start(client, email), email, **kw))


def _signed_in_as(client: Any) -> str | None:
    page = client.get("/staff/")
    if page.status_code != 200:
        return None
    return "signed in"


def test_a_teacher_signs_in_with_the_school_account_and_the_providers_second_factor(
        client: Any, session: Any, school: Any, provider: SsoProvider,
        idp: oidc_provider.Provider, make_user: Any) -> None:
    teacher = make_user(Role.STAFF, school, email="j.brown@oakfield.sch.uk", two_factor=False)
    authorize = _start(client, "J.Brown@oakfield.sch.uk", next_url="/staff/")
    asked = parse_qs(urlsplit(authorize).query)
    assert authorize.startswith(idp.issuer + "/auth?")
    assert asked["code_challenge_method"] == ["S256"]  # PKCE
    assert asked["login_hint"] == ["J.Brown@oakfield.sch.uk"]
    assert asked["nonce"][0]
    assert asked["state"][0]
    response = _back(client, idp.sign_in(authorize, "j.brown@oakfield.sch.uk", mfa=True))
    assert response.status_code == 302
    assert response.headers["Location"] == "/staff/"
    assert client.get("/staff/").status_code == 200
    login = session.scalars(select(Event).where(Event.action == Action.STAFF_LOGIN.value,
                                                Event.actor_id == teacher.id)).one()
    assert login.payload == {"method": "sso_mfa"}


def test_without_the_providers_second_factor_the_portal_asks_for_its_own(
        client: Any, session: Any, school: Any, provider: SsoProvider,
        idp: oidc_provider.Provider, make_user: Any) -> None:
    dsl = make_user(Role.DSL, school, email="dsl@oakfield.sch.uk")
    response = _sign_in(client, idp, dsl.email, mfa=False)
    assert response.headers["Location"].endswith("/staff/login/code")
    assert client.get("/staff/").status_code == 302  # not in yet
    page = client.get("/staff/login/code")
    fields = hidden_fields(page.get_data(as_text=True), "/staff/login/code")
    done = client.post("/staff/login/code", data={**fields, "otp": "000000"})
    assert "That code did not work" in done.get_data(as_text=True)
    done = client.post("/staff/login/code", data={**fields, "otp": next_code(dsl.email)})
    assert done.status_code == 302
    assert client.get("/staff/").status_code == 200
    login = session.scalars(select(Event).where(Event.action == Action.STAFF_LOGIN.value,
                                                Event.actor_id == dsl.id)).one()
    assert login.payload == {"method": "sso_totp"}


def test_an_invited_member_of_staff_who_signs_in_with_the_school_account_is_set_up(
        app: Any, client: Any, session: Any, school: Any, provider: SsoProvider,
        idp: oidc_provider.Provider) -> None:
    """No password to set: the account counts as set up (its invitation link ends), and
    nothing matches its password."""
    invited = User(email="new.teacher@oakfield.sch.uk", password_hash=NO_PASSWORD,
                   role=Role.STAFF, school_id=school.id)
    session.add(invited)
    session.commit()
    response = _sign_in(client, idp, invited.email, mfa=False)
    assert response.headers["Location"].endswith("/staff/login/enrol")
    page = client.get("/staff/login/enrol").get_data(as_text=True)
    secret = re.search(r"data-totp-secret>([A-Z2-7 ]+)<", page).group(1).replace(" ", "")
    TOTP_SECRETS[invited.email] = secret
    fields = hidden_fields(page, "/staff/login/enrol")
    done = client.post("/staff/login/enrol", data={**fields, "otp": next_code(invited.email)})
    assert done.status_code == 200  # the recovery codes
    session.expire_all()
    user = session.get(User, invited.id)
    assert user.password_hash == SSO_ONLY
    # and a password sign-in with anything at all still fails
    elsewhere = app.test_client()
    login = elsewhere.get("/staff/login")
    fields = hidden_fields(login.get_data(as_text=True), "/staff/login")
    refused = elsewhere.post("/staff/login", data={**fields, "email": invited.email,
                                                "password": SSO_ONLY})
    assert "do not match an account" in refused.get_data(as_text=True)


@pytest.mark.parametrize(("tampered", "why"), [
    ({"aud": "another-service"}, "a token minted for another service (wrong audience)"),
    ({"nonce": "a-nonce-from-another-sign-in"}, "a token from another sign-in (wrong nonce)"),
    ({"key": "other"}, "a token signed with a key the provider never published"),
    ({"iss": "https://impostor.example"}, "a token from another issuer"),
])
def test_an_id_token_that_fails_its_checks_is_refused(
        client: Any, session: Any, school: Any, provider: SsoProvider,
        idp: oidc_provider.Provider, make_user: Any, tampered: dict[str, str],
        why: str) -> None:
    teacher = make_user(Role.STAFF, school, email="t.green@oakfield.sch.uk")
    authorize = _start(client, teacher.email)
    back = idp.sign_in(authorize, teacher.email, mfa=True)
    idp.tamper(**tampered)
    response = _back(client, back)
    assert response.status_code == 403, why
    assert "could not be checked" in response.get_data(as_text=True)
    assert client.get("/staff/").status_code == 302, why
    assert session.scalars(select(StaffSession).where(
        StaffSession.user_id == teacher.id)).first() is None
    refused = session.scalars(select(Event).where(
        Event.action == Action.SSO_REFUSED.value)).one()
    assert refused.payload == {"reason": "bad_id_token", "provider_id": provider.id}
    assert refused.actor_id is None


@pytest.mark.parametrize(("email", "verified", "reason", "words"), [
    ("k.white@oakfield.sch.uk", False, "email_unverified", "has not verified your email"),
    ("k.white@elsewhere.example", True, "foreign_domain", "doesn't match a staff account"),
    ("nobody@oakfield.sch.uk", True, "no_account", "doesn't match a staff account"),
])
def test_an_unverified_or_foreign_address_or_no_account_is_refused(
        client: Any, session: Any, school: Any, provider: SsoProvider,
        idp: oidc_provider.Provider, make_user: Any, email: str, verified: bool,
        reason: str, words: str) -> None:
    make_user(Role.STAFF, school, email="k.white@oakfield.sch.uk")
    make_user(Role.STAFF, school, email="k.white@elsewhere.example")
    authorize = _start(client, "k.white@oakfield.sch.uk")
    # the person signs in at the provider as someone else than the address they typed
    response = _back(client, idp.sign_in(authorize, email, verified=verified, mfa=True))
    assert response.status_code == 403
    assert words in html.unescape(response.get_data(as_text=True))
    assert client.get("/staff/").status_code == 302
    refused = session.scalars(select(Event).where(
        Event.action == Action.SSO_REFUSED.value)).one()
    assert refused.payload["reason"] == reason


def test_an_account_at_another_school_with_the_same_domain_is_refused(
        client: Any, session: Any, school: Any, provider: SsoProvider,
        idp: oidc_provider.Provider, make_user: Any, make_school: Any) -> None:
    """Oakfield's provider vouches for its own staff only: an account at another school,
    even with an address in Oakfield's domain, is not signed in by it, and is never sent
    to Oakfield's provider's page (the same answer as no provider at all)."""
    other = make_school("elmwood", "Elmwood Primary")
    make_user(Role.STAFF, other, email="visiting@oakfield.sch.uk")
    make_user(Role.STAFF, school, email="own@oakfield.sch.uk")
    page = client.get("/staff/login/sso")
    fields = hidden_fields(page.get_data(as_text=True), "/staff/login/sso")
    sent = client.post("/staff/login/sso", data={**fields, "email": "visiting@oakfield.sch.uk"})
    assert sent.status_code == 400
    assert "hasn't set up signing in with school accounts" in \
        html.unescape(sent.get_data(as_text=True))
    # and a provider that answers for it anyway (a sign-in started as someone else)
    response = _back(client, idp.sign_in(_start(client, "own@oakfield.sch.uk"),
                                         "visiting@oakfield.sch.uk", mfa=True))
    assert response.status_code == 403
    assert client.get("/staff/").status_code == 302
    assert session.scalars(select(Event).where(
        Event.action == Action.SSO_REFUSED.value)).one().payload["reason"] == "no_account"


def test_a_switched_off_account_is_refused(
        client: Any, session: Any, school: Any, provider: SsoProvider,
        idp: oidc_provider.Provider, make_user: Any) -> None:
    leaver = make_user(Role.DSL, school, email="leaver@oakfield.sch.uk")
    leaver.is_active = False
    session.commit()
    response = _sign_in(client, idp, leaver.email, mfa=True)
    assert response.status_code == 403
    assert "switched off" in response.get_data(as_text=True)
    assert client.get("/staff/").status_code == 302


def test_a_callback_without_this_browsers_sign_in_or_replayed_is_refused(
        app: Any, client: Any, session: Any, school: Any, provider: SsoProvider,
        idp: oidc_provider.Provider, make_user: Any) -> None:
    """An attacker's own callback address pasted into someone's browser (login CSRF), or
    the same callback sent twice, signs nobody in."""
    make_user(Role.DSL, school, email="victim@oakfield.sch.uk")
    make_user(Role.DSL, school, email="attacker@oakfield.sch.uk")
    attacker = app.test_client()
    back = idp.sign_in(_start(attacker, "attacker@oakfield.sch.uk"),
                       "attacker@oakfield.sch.uk", mfa=True)
    victim_started = _start(client, "victim@oakfield.sch.uk")  # their own sign-in under way
    assert victim_started
    response = _back(client, back)  # the attacker's code and state, in the victim's browser
    assert response.status_code == 403
    assert client.get("/staff/").status_code == 302
    assert _back(attacker, back).status_code == 302  # the attacker's own browser: in
    second = app.test_client()
    replayed = _back(second, back)  # a replay elsewhere: sent to start again, not signed in
    assert replayed.status_code == 302
    assert replayed.headers["Location"] == "/staff/login"
    assert second.get("/staff/").status_code == 302


def test_a_provider_that_says_no_is_refused_plainly(
        client: Any, provider: SsoProvider, idp: oidc_provider.Provider) -> None:
    authorize = _start(client, "anyone@oakfield.sch.uk")
    state = parse_qs(urlsplit(authorize).query)["state"][0]
    response = client.get(f"/staff/login/sso/callback?error=access_denied&state={state}")
    assert response.status_code == 403
    assert "did not sign you in" in response.get_data(as_text=True)


def test_an_address_no_provider_speaks_for_is_sent_back_to_the_password(
        client: Any, provider: SsoProvider) -> None:
    page = client.get("/staff/login/sso")
    fields = hidden_fields(page.get_data(as_text=True), "/staff/login/sso")
    response = client.post("/staff/login/sso", data={**fields, "email": "me@gmail.com"})
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "hasn't set up signing in with school accounts" in html.unescape(body)
    assert 'value="me@gmail.com"' in body  # what they typed is kept


def test_signing_out_ends_the_providers_session_too(
        client: Any, school: Any, provider: SsoProvider, idp: oidc_provider.Provider,
        make_user: Any) -> None:
    make_user(Role.STAFF, school, email="p.black@oakfield.sch.uk")
    person = requests.Session()  # the person's browser at the provider
    authorize = _start(client, "p.black@oakfield.sch.uk")
    _back(client, idp.sign_in(authorize, "p.black@oakfield.sch.uk", mfa=True, http=person))
    assert client.get("/staff/").status_code == 200
    page = client.get("/staff/logout")
    fields = hidden_fields(page.get_data(as_text=True), "/staff/logout")
    out = _leaving(client.post("/staff/logout", data=fields))
    where = urlsplit(out)
    assert f"{where.scheme}://{where.netloc}{where.path}" == f"{idp.issuer}/session/end"
    assert parse_qs(where.query)["post_logout_redirect_uri"] == [SIGNED_OUT]
    assert parse_qs(where.query)["client_id"] == [oidc_provider.CLIENT_ID]
    assert client.get("/staff/").status_code == 302  # the portal's session is over
    # at the provider: confirm, and it sends the person back to the portal's sign-in page
    confirm = person.get(out, timeout=10)
    assert confirm.status_code == 200
    form = hidden_fields(confirm.text)
    action = re.search(r'action="([^"]+)"', confirm.text).group(1)
    done = person.post(requests.compat.urljoin(idp.issuer, action),
                       data={**form, "logout": "yes"}, allow_redirects=False, timeout=10)
    assert done.headers["Location"].startswith(SIGNED_OUT)
    # the provider's session has ended: the next sign-in there asks again
    again = person.get(_start(client, "p.black@oakfield.sch.uk"), allow_redirects=True,
                       timeout=10)
    assert "Test school sign-in" in again.text


def test_a_refused_sign_in_logs_no_address_or_name(
        client: Any, school: Any, provider: SsoProvider, idp: oidc_provider.Provider,
        make_user: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    _sign_in(client, idp, "unknown.person@oakfield.sch.uk", mfa=True)
    text = caplog.text.lower()
    assert "sso: a sign-in was refused (no_account)" in text
    assert "unknown.person" not in text


def test_trust_wide_provider_signs_in_staff_of_every_school_of_the_trust(
        app: Any, client: Any, session: Any, school: Any, make_school: Any,
        idp: oidc_provider.Provider, make_user: Any) -> None:
    app.config["PORTAL_SSO_HTTP_LOOPBACK"] = True
    trust = Trust(name="Riverside Trust")
    session.add(trust)
    session.flush()
    other = make_school("elmwood", "Elmwood Primary")
    school.trust_id = other.trust_id = trust.id
    lead = make_user(Role.TRUST_LEAD, None, email="lead@riverside.org.uk", trust_id=trust.id)
    sso_settings.save(session, sso_settings.Scope(None, trust.id), actor=lead,
                      label="Riverside account", issuer=idp.issuer,
                      client_id=oidc_provider.CLIENT_ID,
                      client_secret=oidc_provider.CLIENT_SECRET, domains="riverside.org.uk",
                      enabled=True, allow_http_loopback=True)
    session.commit()
    make_user(Role.STAFF, other, email="teacher.elmwood@riverside.org.uk")
    assert _sign_in(client, idp, "teacher.elmwood@riverside.org.uk",
                    mfa=True).status_code == 302
    assert client.get("/staff/").status_code == 200
    stranger = make_school("farfield", "Farfield (not in the trust)")
    make_user(Role.STAFF, stranger, email="teacher.farfield@riverside.org.uk")
    outsider = app.test_client()
    page = outsider.get("/staff/login/sso")
    fields = hidden_fields(page.get_data(as_text=True), "/staff/login/sso")
    assert outsider.post("/staff/login/sso", data={
        **fields, "email": "teacher.farfield@riverside.org.uk"}).status_code == 400


@pytest.mark.parametrize("role", [Role.DSL, Role.DEPUTY_DSL, Role.HEAD])
def test_an_administrators_own_provider_does_not_make_them_the_dsl(
        client: Any, session: Any, school: Any, provider: SsoProvider,
        idp: oidc_provider.Provider, make_user: Any, make_report: Any, role: Role) -> None:
    """The SSO trial's H1: the administrator points the school at a provider they run and
    signs in there as the DSL, the provider vouching for a second factor. Only the DSL
    decides who reads reports: for the DSL team and the head the portal's own second step
    always applies, so the provider's word alone opens no case."""
    reader = make_user(role, school, email=f"{role.value}@oakfield.sch.uk")
    report, _ = make_report(school, what_happened="Something only the DSL may read")
    response = _sign_in(client, idp, reader.email, mfa=True)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/staff/login/code")
    case = client.get(f"/staff/cases/{report.id}")
    assert case.status_code == 302
    assert "only the DSL may read" not in case.get_data(as_text=True)
    assert client.get("/staff/").status_code == 302  # not signed in


def test_a_dsl_team_account_not_yet_set_up_is_refused_until_its_owner_sets_it_up(
        client: Any, session: Any, school: Any, provider: SsoProvider,
        idp: oidc_provider.Provider) -> None:
    """An invited deputy who has not taken up the invitation: a provider's sign-in must not
    let whoever runs it set up the account's second step for them."""
    invited = User(email="new.deputy@oakfield.sch.uk", password_hash=NO_PASSWORD,
                   role=Role.DEPUTY_DSL, school_id=school.id)
    session.add(invited)
    session.commit()
    response = _sign_in(client, idp, invited.email, mfa=True)
    assert response.status_code == 403
    assert "link in your invitation email" in html.unescape(response.get_data(as_text=True))
    assert client.get("/staff/login/enrol").status_code == 302  # nothing to set up here
    session.expire_all()
    assert session.get(User, invited.id).totp_secret is None
    assert session.scalars(select(Event).where(
        Event.action == Action.SSO_REFUSED.value)).one().payload["reason"] == "own_step_first"


def test_a_look_alike_letter_in_the_address_matches_nobody(
        client: Any, school: Any, provider: SsoProvider, idp: oidc_provider.Provider,
        make_user: Any) -> None:
    """The SSO trial's L6: the Kelvin sign (U+212A) lower-cases to "k"."""
    make_user(Role.STAFF, school, email="kate@oakfield.sch.uk")
    make_user(Role.STAFF, school, email="own@oakfield.sch.uk")
    response = _back(client, idp.sign_in(_start(client, "own@oakfield.sch.uk"),
                                         "\u212aate@oakfield.sch.uk", mfa=True))
    assert response.status_code == 403
    assert client.get("/staff/").status_code == 302


def test_signed_in_already_the_school_account_page_sends_on(
        browser: Any, school: Any, provider: SsoProvider, make_user: Any) -> None:
    """The SSO trial's L7: starting a sign-in while signed in dropped the browser's session
    but left it open on the server; now it is the password page's answer: on you go."""
    dsl = make_user(Role.DSL, school, email="dsl@oakfield.sch.uk")
    assert browser.login(dsl.email).status_code == 302
    page = browser.get("/staff/login/sso")
    assert page.status_code == 302
    assert page.headers["Location"] == "/staff/"
    assert browser.get("/staff/").status_code == 200
