"""The administrator's page for signing in with the school's accounts (issue 18: "configured
per trust or school by an admin (issuer, client id and secret, allowed email domains)"): a
school's administrator sets the school's, the trust lead the trust's; mistakes get plain
words and keep what was typed; the secret is never shown, logged or put in an event."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select, text

from portal.admin import sso_settings
from portal.auth import sso
from portal.events import Action
from portal.models import Event, OutboxMessage, Role, SsoProvider, Trust
from tests import oidc_provider
from tests.conftest import hidden_fields

PAGE = "/staff/school/sign-in"
SECRET = "s3cret-from-entra-0123456789"  # noqa: S105 - the test's own


@pytest.fixture(scope="module")
def idp() -> Iterator[oidc_provider.Provider]:
    with oidc_provider.running(["http://127.0.0.1:5000/staff/login/sso/callback"],
                               ["http://127.0.0.1:5000/staff/login"]) as provider:
        yield provider


@pytest.fixture
def admin(app: Any, browser: Any, school: Any, make_user: Any) -> Any:
    app.config["PORTAL_SSO_HTTP_LOOPBACK"] = True
    user = make_user(Role.ADMIN, school, email="office@oakfield.sch.uk")
    browser.login(user.email)
    return user


def _save(browser: Any, **values: Any) -> Any:
    form = {"label": "Oakfield account", "issuer": "", "client_id": "portal",
            "client_secret": SECRET, "domains": "oakfield.sch.uk", "enabled": "y", **values}
    if not form["enabled"]:
        form.pop("enabled")
    return browser.submit(PAGE, form)


def _trust_and_lead(session: Any, school: Any, make_user: Any) -> tuple[Trust, Any]:
    """Oakfield in the Riverside Trust, and the trust's lead."""
    trust = Trust(name="Riverside Trust")
    session.add(trust)
    session.flush()
    school.trust_id = trust.id
    session.commit()
    return trust, make_user(Role.TRUST_LEAD, None, email="lead@riverside.org.uk",
                            trust_id=trust.id)


def test_the_administrator_sets_up_the_schools_provider(
        browser: Any, session: Any, school: Any, admin: Any,
        idp: oidc_provider.Provider) -> None:
    page = browser.get(PAGE).get_data(as_text=True)
    assert "http://127.0.0.1:5000/staff/login/sso/callback" in page  # what IT registers
    response = _save(browser, issuer=idp.issuer, domains="Oakfield.sch.uk\n@staff.oakfield.sch.uk")
    assert response.status_code == 302
    row = session.scalars(select(SsoProvider)).one()
    assert row.school_id == school.id
    assert row.trust_id is None
    assert row.enabled is True
    assert row.domain_list == ["oakfield.sch.uk", "staff.oakfield.sch.uk"]
    assert row.client_secret == SECRET
    # encrypted at rest: the column holds no trace of the secret
    stored = session.execute(text("SELECT client_secret FROM sso_providers")).scalar()
    assert SECRET not in stored
    saved = session.scalars(select(Event).where(Event.action == Action.SSO_SAVED.value)).one()
    assert saved.actor_id == admin.id
    assert saved.school_id == school.id
    assert "client secret" in saved.payload["fields"]
    assert SECRET not in str(saved.payload)
    # shown again without the secret; a save with it left empty keeps it
    again = browser.get(PAGE).get_data(as_text=True)
    assert SECRET not in again
    assert _save(browser, issuer=idp.issuer, client_secret="", label="Staff login",
                 domains="oakfield.sch.uk staff.oakfield.sch.uk").status_code == 302
    session.expire_all()
    assert session.get(SsoProvider, row.id).client_secret == SECRET
    latest = session.scalars(select(Event).where(Event.action == Action.SSO_SAVED.value)
                             .order_by(Event.id.desc())).first()
    assert latest.payload["fields"] == ["label"]
    # and the sign-in page now offers it
    signin = browser.client.application.test_client().get("/staff/login")
    assert "Sign in with your school account" in signin.get_data(as_text=True)


@pytest.mark.parametrize(("values", "words"), [
    ({"issuer": "http://login.example.com"}, "must start with https://"),
    ({"issuer": "https://login.example.com/x?y=1"}, "must be a web address"),
    ({"domains": "gmail.com"}, "public mailbox service"),
    ({"domains": "not a domain!"}, "is not an email domain"),
    ({"domains": ""}, "at least one email domain"),
    ({"client_secret": ""}, "Enter the client secret"),
    ({"issuer": "https://127.0.0.1:9/none"}, "could not read that issuer"),
])
def test_mistakes_get_plain_words_and_keep_what_was_typed(
        browser: Any, session: Any, admin: Any, idp: oidc_provider.Provider,
        values: dict[str, str], words: str) -> None:
    sso.forget("https://127.0.0.1:9/none")
    typed = {"issuer": idp.issuer, "label": "Oakfield <b>account</b>", **values}
    response = _save(browser, **typed)
    assert response.status_code == 400
    body = html.unescape(response.get_data(as_text=True))
    assert words in body
    field = next(iter(values))  # the words stand beside the field they are about
    beside = re.search(rf'id="{field}-error">(.*?)</p>', body, re.S)
    assert beside, body
    assert words in beside.group(1)
    assert "Oakfield <b>account</b>" in body  # kept, and as text
    assert "<b>account</b>" not in response.get_data(as_text=True)
    assert session.scalars(select(SsoProvider)).first() is None


def test_another_schools_domain_cant_be_claimed(
        app: Any, browser: Any, session: Any, admin: Any, make_school: Any, make_user: Any,
        idp: oidc_provider.Provider) -> None:
    """The SSO trial's M2: Elmwood's administrator saved a provider "Oakfield Microsoft
    365" for oakfield.sch.uk, and Oakfield's staff were sent to Elmwood's provider's page
    with their address filled in. A domain another school's staff use can't be claimed,
    whether or not Oakfield has set up its own yet."""
    other = make_school("elmwood", "Elmwood Primary")
    their_admin = make_user(Role.ADMIN, other, email="office@elmwood.sch.uk")
    theirs = app.test_client()
    from tests.conftest import Browser

    Browser(theirs).login(their_admin.email)
    for _ in ("before Oakfield's own", "after it"):
        response = Browser(theirs).submit(PAGE, {
            "label": "Oakfield Microsoft 365", "issuer": idp.issuer, "client_id": "portal",
            "client_secret": SECRET, "domains": "elmwood.sch.uk\noakfield.sch.uk",
            "enabled": "y"})
        assert response.status_code == 400
        assert "oakfield.sch.uk can't be used here: staff outside this school" in \
            html.unescape(response.get_data(as_text=True))
        assert session.scalars(select(SsoProvider).where(
            SsoProvider.school_id == other.id)).first() is None
        assert _save(browser, issuer=idp.issuer).status_code == 302
    # another school's administrator sees only their own school's settings
    assert "Oakfield account" not in theirs.get(PAGE).get_data(as_text=True)


def test_one_domain_has_one_way_in(
        app: Any, browser: Any, session: Any, admin: Any, school: Any, make_user: Any,
        idp: oidc_provider.Provider) -> None:
    """A school in a trust, and the trust, both wanting oakfield.sch.uk: one of them."""
    trust, lead = _trust_and_lead(session, school, make_user)
    sso_settings.save(session, sso_settings.Scope(None, trust.id), actor=lead,
                      label="Riverside", issuer=idp.issuer, client_id="portal",
                      client_secret=SECRET, domains="oakfield.sch.uk", enabled=True,
                      allow_http_loopback=True)
    session.commit()
    response = _save(browser, issuer=idp.issuer)
    assert response.status_code == 400
    assert "oakfield.sch.uk already signs in through another provider here" in \
        html.unescape(response.get_data(as_text=True))


def test_the_dsl_team_is_emailed_when_the_sign_in_changes(
        browser: Any, session: Any, school: Any, admin: Any, make_user: Any,
        idp: oidc_provider.Provider) -> None:
    """Whoever runs the provider can sign in as the staff in its domains: the people who
    answer for the reports are told each time it changes (never the secret)."""
    dsl = make_user(Role.DSL, school, email="dsl@oakfield.sch.uk")
    teacher = make_user(Role.STAFF, school, email="teacher@oakfield.sch.uk")
    assert _save(browser, issuer=idp.issuer).status_code == 302
    sent = list(session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "sign_in")))
    assert [m.to_address for m in sent] == [dsl.email]
    assert teacher.email not in [m.to_address for m in sent]
    assert "issuer" in sent[0].body
    assert "now on" in sent[0].body
    assert SECRET not in sent[0].body
    assert _save(browser, issuer=idp.issuer, label="Renamed only",
                 client_secret="").status_code == 302
    assert len(list(session.scalars(select(OutboxMessage).where(
        OutboxMessage.kind == "sign_in")))) == 1  # a new name alone: nobody bothered


@pytest.mark.parametrize("role", [Role.DSL, Role.DEPUTY_DSL, Role.STAFF, Role.HEAD])
def test_only_the_administrator_and_the_trust_lead_set_it(
        app: Any, session: Any, school: Any, make_user: Any, role: Role) -> None:
    from tests.conftest import Browser

    user = make_user(role, school)
    browser = Browser(app.test_client())
    browser.login(user.email)
    assert browser.get(PAGE).status_code == 403
    page = browser.get("/staff/login")  # any page: its CSRF token
    fields = hidden_fields(page.get_data(as_text=True)) if page.status_code == 200 else {}
    assert browser.client.post(PAGE, data={**fields, "issuer": "https://x.example"})\
        .status_code in (400, 403)
    assert session.scalars(select(SsoProvider)).first() is None


def test_the_trust_lead_sets_the_trusts_provider(
        app: Any, browser: Any, session: Any, school: Any, make_user: Any,
        idp: oidc_provider.Provider) -> None:
    app.config["PORTAL_SSO_HTTP_LOOPBACK"] = True
    trust, lead = _trust_and_lead(session, school, make_user)
    browser.login(lead.email)
    response = browser.submit(PAGE, {"label": "Riverside", "issuer": idp.issuer,
                                     "client_id": "portal", "client_secret": SECRET,
                                     "domains": "riverside.org.uk", "enabled": "y"})
    assert response.status_code == 302
    row = session.scalars(select(SsoProvider)).one()
    assert row.trust_id == trust.id
    assert row.school_id is None
    # the school's administrator sees that the trust's applies
    from tests.conftest import Browser

    office = make_user(Role.ADMIN, school, email="office@oakfield.sch.uk")
    theirs = Browser(app.test_client())
    theirs.login(office.email)
    page = html.unescape(theirs.get(PAGE).get_data(as_text=True))
    assert "Your trust has set up Riverside for riverside.org.uk" in \
        " ".join(page.replace("<strong>", "").replace("</strong>", "").split())
