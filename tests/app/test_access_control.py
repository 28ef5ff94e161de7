"""Every staff route declares who may use it, and the declarations match the design
(SECURITY.md P8: "every staff route declares which roles may use it ... a role x route table
test fails when a new route declares no policy").

Two sources of truth are checked against each other and against the running app:

* the roles each view declares with ``portal.auth.access.allow`` (``view.allowed_roles``);
* ``DESIGN``, written by hand from DESIGN.md's Roles section: "dsl, deputy_dsl (read and act on
  their school's reports), staff (can record a concern they were told about, sees only what
  they wrote), head (head teacher / principal / SLT: the school's figures and the notices the
  policies address to the Principal, no report text), trust_lead (trust-wide statistics
  without report text), admin (accounts and roster, no report text)".

A declaration more generous than the design fails, a new staff route missing from either fails,
and every GET route is requested by every role to see that the answer agrees.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from werkzeug.routing import Rule

from portal import create_app
from portal.auth.access import DECLARED, PUBLIC, allow
from portal.models import Report, Role, SchoolContact, Trust
from tests.conftest import (
    Browser,
    a_share_to,
    a_transfer_from,
    an_invitation,
    kept_evidence_and_staff_concern,
)
from tests.pdf_text import pdf_text

ALL = frozenset(Role)
READERS = frozenset({Role.DSL, Role.DEPUTY_DSL})
SCHOOL_RUNNERS = frozenset({Role.ADMIN, Role.DSL, Role.DEPUTY_DSL})
# Counts, never report text: the head, the DSL team and the trust lead (DESIGN.md, Roles)
FIGURES = frozenset({Role.DSL, Role.DEPUTY_DSL, Role.HEAD, Role.TRUST_LEAD})

# The most each staff endpoint may ever allow, by the design (not copied from the code).
# Report text (case pages, pupil chronologies, evidence) is for the DSL team only; staff may
# open a case only when it is a concern they wrote themselves (checked below by visiting one).
DESIGN: dict[str, frozenset[Role]] = {
    "auth.login": PUBLIC,  # public: the sign-in pages themselves
    "auth.second_factor": PUBLIC,  # only for an account whose password was just right
    "auth.enrol": PUBLIC,  # likewise: first sign-in sets up the authenticator
    "auth.logout": ALL,
    "auth.accept_invite": PUBLIC,  # an invitation's one-time link: set a password
    # signing in with the school's accounts (issue 18): public like the password page
    "auth.sso_start": PUBLIC,
    "auth.sso_callback": PUBLIC,  # without a sign-in under way: back to the sign-in page
    # passkeys (issue 18): everyone their own; the second step by passkey is public like
    # the code's (only for an account whose first step was just passed)
    "auth.passkeys_page": ALL,
    "auth.add_passkey": ALL,
    "auth.remove_passkey": ALL,
    "auth.passkey_sign_in": PUBLIC,
    "admin.sso_settings_page": frozenset({Role.ADMIN, Role.TRUST_LEAD}),
    "admin.save_sso_settings": frozenset({Role.ADMIN, Role.TRUST_LEAD}),
    # staff accounts in the browser (issue 18): the administrator and the DSL
    "admin.staff_accounts": frozenset({Role.ADMIN, Role.DSL}),
    "admin.invite_staff": frozenset({Role.ADMIN, Role.DSL}),
    "admin.change_staff_role": frozenset({Role.ADMIN, Role.DSL}),
    "admin.disable_staff": frozenset({Role.ADMIN, Role.DSL}),
    "admin.enable_staff": frozenset({Role.ADMIN, Role.DSL}),
    "admin.reset_staff_second_step": frozenset({Role.ADMIN, Role.DSL}),
    "admin.resend_staff_link": frozenset({Role.ADMIN, Role.DSL}),
    "admin.reset_staff_password": frozenset({Role.ADMIN, Role.DSL}),
    # the roster upload in the browser (issue 18): preview, then confirm
    "admin.roster_import": frozenset({Role.ADMIN, Role.DSL}),
    "admin.upload_roster": frozenset({Role.ADMIN, Role.DSL}),
    "admin.confirm_roster": frozenset({Role.ADMIN, Role.DSL}),
    "triage.queue": ALL,  # admin, trust lead and head are sent on to their own pages
    "triage.case": READERS | {Role.STAFF},  # staff: their own concerns only
    "triage.decide": READERS,
    "triage.decide_and_close": READERS,
    "triage.change_status": READERS,
    "triage.legal_hold": READERS,
    "triage.message_reporter": READERS,
    "triage.download_evidence": READERS,
    # records leaving the portal (issue 16): the case and the child's record as PDFs
    "triage.export_case": READERS,
    "triage.export_pupil": READERS,
    "triage.bundle_case": READERS,
    "triage.add_evidence": READERS,  # screenshots, scans and web addresses the DSL adds
    # the audit trail (who viewed, changed, exported): the DSL team
    "triage.audit": READERS,
    "triage.audit_csv": READERS,
    # a child's record to another school of the trust (KCSIE), and records received
    "triage.send_transfer": READERS,
    "triage.transfers": READERS,
    "triage.read_transfer": READERS,
    # a case worked together with another school of the trust: shared, read, acted on
    # and ended by the two schools' DSL teams
    "triage.share_case": READERS,
    "triage.add_case_share_action": READERS,
    "triage.end_case_share": READERS,
    "triage.shares": READERS,
    "triage.shared_case": READERS,
    "triage.add_shared_action": READERS,
    "triage.end_shared": READERS,
    # a suspected nude image of a child (UKCIS guidance): marked, and let out with a reason
    "triage.mark_nude": READERS,
    "triage.release_nude": READERS,
    "triage.add_note": READERS,
    "triage.acknowledge": READERS,
    "triage.set_kinds": READERS,
    "triage.add_checklist": READERS,
    "triage.update_step": READERS,
    "triage.update_steps": READERS,
    "triage.record_action": READERS,
    "triage.assign": READERS,
    "triage.link_pupil": READERS,
    "triage.unlink_pupil": READERS,
    "triage.pupils": READERS,
    "triage.pupil": READERS,
    "triage.new_concern": READERS | {Role.STAFF},
    # people involved, per party (issue 14): case work, the DSL team only
    "triage.add_party": READERS,
    "triage.record_finding": READERS,
    "triage.add_support": READERS,
    "triage.review_support": READERS,
    "triage.record_voice": READERS,
    "triage.record_interview": READERS,
    # check back with the reporter (issue 14): set a day, cancel one
    "triage.schedule_check_back": READERS,
    "triage.cancel_check_back": READERS,
    # parents and carers kept informed (issue 14): case work, the DSL team only
    "triage.record_parents_told": READERS,
    "triage.invite_parents": READERS,
    "triage.complete_meeting": READERS,
    "triage.search_reports": READERS,  # issue 14 search: report text, the DSL team only
    # the notices sent under the steps addressed to the Principal/SLT (cyber 4.4, 5.4): the
    # head, and the DSL team who send them; case numbers only, no report text
    "triage.principal_notices": READERS | {Role.HEAD},
    "admin.home": SCHOOL_RUNNERS,
    "admin.save_settings": SCHOOL_RUNNERS,
    "admin.add_adult": SCHOOL_RUNNERS,
    "admin.toggle_adult": SCHOOL_RUNNERS,
    "admin.tablets": SCHOOL_RUNNERS,  # enrol this browser as a kiosk tablet; list, revoke
    "admin.revoke_tablet": SCHOOL_RUNNERS,
    "admin.trust": frozenset({Role.TRUST_LEAD}),  # the old trust page: leads to the figures
    # the figures (issue 15): counts, never report text; staff and admin see none
    "figures.page": FIGURES,
    "figures.csv": FIGURES,
    "figures.pdf": FIGURES,
    "admin.roster": SCHOOL_RUNNERS,
    "admin.edit_pupil": SCHOOL_RUNNERS,
    # the people around the case (issue 14): notices from the case, by the DSL team; the
    # school's contacts and trusted adults' accounts, by the administrator only
    "triage.send_notice": READERS,
    "triage.tell_adult": READERS,
    "admin.contacts": frozenset({Role.ADMIN}),
    "admin.add_contact": frozenset({Role.ADMIN}),
    "admin.edit_contact": frozenset({Role.ADMIN}),
    "admin.toggle_contact": frozenset({Role.ADMIN}),
    "admin.link_adult": frozenset({Role.ADMIN}),
}

# Endpoints that show report text (or a file sent with a report): never admin or trust lead,
# and never staff beyond the concerns they wrote.
REPORT_TEXT = {"triage.case", "triage.download_evidence", "triage.pupil", "triage.pupils",
               "triage.search_reports", "triage.export_case", "triage.export_pupil",
               "triage.bundle_case", "triage.release_nude", "triage.transfers",
               "triage.read_transfer", "triage.shares", "triage.shared_case"}
NO_REPORT_TEXT = frozenset({Role.ADMIN, Role.TRUST_LEAD, Role.HEAD})
# What a head may open: the staff home (sent on to their own page), sign-out, the notices
# to the Principal; the figures page (another change) adds itself here.
# ... and, as everyone, their own passkeys (issue 18)
OWN_PASSKEYS = {"auth.passkeys_page", "auth.add_passkey", "auth.remove_passkey"}
HEAD_PAGES = {"triage.queue", "auth.logout", "triage.principal_notices", "figures.page",
              "figures.csv", "figures.pdf"} | OWN_PASSKEYS


def staff_rules(app: Flask) -> list[Rule]:
    return sorted((r for r in app.url_map.iter_rules() if r.rule.startswith("/staff")),
                  key=lambda r: r.rule)


def undeclared(app: Flask) -> list[str]:
    """Staff rules whose view function carries no ``allowed_roles`` (no policy declared)."""
    return [f"{rule.rule} ({rule.endpoint})" for rule in staff_rules(app)
            if not isinstance(getattr(app.view_functions[rule.endpoint], "allowed_roles", None),
                              frozenset)]


def declared(app: Flask, endpoint: str) -> frozenset[Role]:
    roles: frozenset[Role] = app.view_functions[endpoint].allowed_roles
    return roles


# --- the declarations ---------------------------------------------------------------------


def test_every_staff_route_declares_its_roles(app):
    assert staff_rules(app), "no /staff routes found: the check would prove nothing"
    assert undeclared(app) == []


def test_the_check_reports_a_staff_route_without_a_declaration(settings):
    """A throwaway app with one undecorated /staff route: the checker names it."""
    throwaway = create_app(settings)
    try:
        assert undeclared(throwaway) == []

        @throwaway.route("/staff/x")
        def sneaky() -> str:
            return "report text for anyone signed in"

        @throwaway.route("/staff/y")
        @allow(Role.DSL)
        def guarded() -> str:
            return "fine"

        assert undeclared(throwaway) == ["/staff/x (sneaky)"]
    finally:
        throwaway.extensions["portal.engine"].dispose()


def test_the_registry_matches_the_views(app):
    """DECLARED (the one place listing policies) agrees with each allow-guarded view."""
    for rule in staff_rules(app):
        view = app.view_functions[rule.endpoint]
        if view.allowed_roles == PUBLIC:
            continue
        key = f"{view.__module__}.{view.__qualname__}"
        assert DECLARED.get(key) == view.allowed_roles, rule.rule


def test_every_staff_endpoint_is_in_the_design_table(app):
    """A new staff route must be added to DESIGN (someone decides who may use it)."""
    endpoints = {rule.endpoint for rule in staff_rules(app)}
    assert endpoints - DESIGN.keys() == set(), "add the new staff routes to DESIGN"
    assert DESIGN.keys() - endpoints == set(), "DESIGN lists routes that no longer exist"


def too_generous(app: Flask) -> dict[str, list[str]]:
    """Endpoints declaring roles beyond DESIGN, or letting admin/trust lead at report text."""
    found = {}
    for endpoint in {rule.endpoint for rule in staff_rules(app)} & DESIGN.keys():
        roles = declared(app, endpoint)
        extra = roles - DESIGN[endpoint]
        if endpoint in REPORT_TEXT:
            extra |= roles & NO_REPORT_TEXT
        if extra:
            found[endpoint] = sorted(r.value for r in extra)
    return found


def test_no_declaration_is_more_generous_than_the_design(app):
    assert too_generous(app) == {}
    for endpoint in REPORT_TEXT:
        assert declared(app, endpoint) != PUBLIC, endpoint


def test_a_too_generous_declaration_is_caught(settings):
    """A throwaway app whose case page also lets admin in: the comparison reports it."""
    throwaway = create_app(settings)
    try:
        original = throwaway.view_functions["triage.case"]

        def generous(*args: Any, **kwargs: Any) -> Any:
            return original(*args, **kwargs)

        generous.allowed_roles = original.allowed_roles | {Role.ADMIN}  # type: ignore[attr-defined]
        throwaway.view_functions["triage.case"] = generous
        assert too_generous(throwaway) == {"triage.case": ["admin"]}
    finally:
        throwaway.extensions["portal.engine"].dispose()


# --- the running app: every role x every GET route ---------------------------------------


@pytest.fixture
def world(app, school, session, make_report, make_user, make_school) -> dict[str, Any]:
    """A school in a trust with a report (with a kept file), a pupil, a trusted adult, a user
    per role, and a concern written by the member of staff."""
    trust = Trust(name="Test Trust")
    session.add(trust)
    session.flush()
    school.trust_id = trust.id
    session.commit()
    users = {role: make_user(role, None if role == Role.TRUST_LEAD else school,
                             trust_id=trust.id) for role in Role}
    report, _code = make_report(school)
    item, pupil, concern = kept_evidence_and_staff_concern(app, session, school, report,
                                                           users[Role.STAFF])
    contact = SchoolContact(school_id=school.id, name="Ms Head", role="principal",
                            email="head@oakfield.test")
    session.add(contact)
    session.commit()
    elm = make_school("elm", "Elm Academy")
    elm.trust_id = trust.id
    transfer_id = a_transfer_from(session, school, elm, users[Role.DSL])
    # Elm shares one of its cases with this school (the words too): its DSL team reads it
    elm_report, _code = make_report(elm, what_happened="Words at Elm: they push me on the bus")
    share_id = a_share_to(session, elm_report.id, elm, school,
                          make_user(Role.DSL, elm, trust_id=trust.id))
    return {
        "users": users,
        "ids": {"report_id": report.id, "evidence_id": item.id, "pupil_id": pupil.id,
                "adult_id": school.trusted_adults[0].id, "contact_id": contact.id,
                "transfer_id": transfer_id, "share_id": share_id,
                "token": an_invitation(session, school, users[Role.ADMIN])},
        "concern_id": concern.id, "shared_words": "Words at Elm: they push me on the bus",
    }


def get_routes(app: Flask, ids: dict[str, int]) -> tuple[list[tuple[str, str]], list[str]]:
    """(endpoint, url) for every GET staff rule with real ids; and the rules skipped."""
    routes, skipped = [], []
    for rule in staff_rules(app):
        if "GET" not in (rule.methods or set()):
            continue
        if not set(rule.arguments) <= ids.keys():
            skipped.append(rule.rule)
            continue
        built = rule.build({arg: ids[arg] for arg in rule.arguments}, append_unknown=False)
        assert built, rule.rule
        routes.append((rule.endpoint, built[1]))
    return routes, skipped


def test_every_get_staff_route_has_its_ids(app, world):
    """No GET staff route is left out of the table below for want of an id."""
    _routes, skipped = get_routes(app, world["ids"])
    assert skipped == [], f"GET staff routes not exercised (no id for them): {skipped}"


def test_signed_out_every_staff_page_sends_to_sign_in(app, client, world):
    routes, _ = get_routes(app, world["ids"])
    for endpoint, url in routes:
        response = client.get(url)
        if declared(app, endpoint) == PUBLIC:
            # The sign-in pages: shown, or (second factor without a password first) sent
            # back to the sign-in page.
            assert response.status_code < 400, url
            if response.status_code != 200:
                assert response.headers["Location"].startswith("/staff/login"), url
            continue
        assert response.status_code == 302, f"{response.status_code} {url}"
        assert response.headers["Location"].startswith("/staff/login"), url


def expected(app: Flask, endpoint: str, role: Role) -> Callable[[int], bool]:
    """What the answer to ``role`` on ``endpoint`` must be, from the declaration and DESIGN."""
    roles = declared(app, endpoint)
    if roles == PUBLIC:
        return lambda status: status < 400
    if role not in roles or role not in DESIGN[endpoint]:
        return lambda status: status == 403
    if endpoint in REPORT_TEXT and role not in READERS:
        # Allowed on the route only for their own concerns: another report is not found.
        return lambda status: status in (403, 404)
    # Allowed: the page itself (or a redirect to the role's own page), never an error.
    return lambda status: status < 400


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_each_role_gets_exactly_the_staff_pages_it_is_allowed(role, app, world):
    user = world["users"][role]
    browser = Browser(app.test_client())
    assert browser.login(user.email).status_code == 302
    routes, _ = get_routes(app, world["ids"])
    wrong = []
    for endpoint, url in routes:
        if endpoint == "auth.logout":
            continue  # GET shows the sign-out form; it is checked last so the session lasts
        status = browser.get(url).status_code
        if not expected(app, endpoint, role)(status):
            wrong.append(f"{status} {url} ({endpoint}, declared "
                         f"{sorted(r.value for r in declared(app, endpoint))})")
    assert browser.get("/staff/logout").status_code == 200
    assert wrong == []


def test_staff_read_the_concern_they_wrote_but_no_other_report(app, world):
    """The design's "sees only what they wrote": own concern 200, a pupil's report 404/403."""
    browser = Browser(app.test_client())
    assert browser.login(world["users"][Role.STAFF].email).status_code == 302
    assert browser.get(f"/staff/cases/{world['concern_id']}").status_code == 200
    report_id = world["ids"]["report_id"]
    other = browser.get(f"/staff/cases/{report_id}")
    assert other.status_code in (403, 404)
    assert "They keep calling me names" not in other.get_data(as_text=True)
    evidence = browser.get(f"/staff/cases/{report_id}/evidence/{world['ids']['evidence_id']}")
    assert evidence.status_code in (403, 404)


@pytest.mark.parametrize("role", [Role.ADMIN, Role.TRUST_LEAD, Role.HEAD, Role.STAFF],
                         ids=lambda r: r.value)
def test_no_report_text_reaches_roles_that_must_not_read_it(role, app, world, session):
    """Admin, trust lead, head and staff: no page they can open shows the pupil's words."""
    words = session.get(Report, world["ids"]["report_id"]).body
    browser = Browser(app.test_client())
    assert browser.login(world["users"][role].email).status_code == 302
    routes, _ = get_routes(app, world["ids"])
    for _endpoint, url in routes:
        response = browser.get(url, follow_redirects=True)
        body = pdf_text(response.data) if response.mimetype == "application/pdf" \
            else response.get_data(as_text=True)
        assert words not in body, url
        assert world["shared_words"] not in body, url  # a case Elm shares with the DSL team


def test_a_head_is_declared_on_no_other_staff_route(app):
    """The head's pages are the notices to the Principal and their landing: the queue,
    case pages, pupils, search, roster, evidence and the admin's pages all refuse them."""
    allowed = {rule.endpoint for rule in staff_rules(app)
               if Role.HEAD in declared(app, rule.endpoint)}
    assert allowed == HEAD_PAGES


def test_a_head_is_refused_every_staff_form(app, world):
    """Every POST staff route (with a valid CSRF token) answers a head 403 and changes
    nothing; sign-in's own forms, sign-out and their own passkeys aside."""
    browser = Browser(app.test_client())
    assert browser.login(world["users"][Role.HEAD].email).status_code == 302
    page = browser.get("/staff/notices").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token, "no CSRF token on the head's page"
    wrong = []
    for rule in staff_rules(app):
        if "POST" not in (rule.methods or set()) or rule.endpoint == "auth.logout" \
                or rule.endpoint in OWN_PASSKEYS or declared(app, rule.endpoint) == PUBLIC:
            continue
        built = rule.build({arg: world["ids"].get(arg, 1) for arg in rule.arguments},
                           append_unknown=False)
        assert built, rule.rule
        status = browser.client.post(built[1], data={"csrf_token": token.group(1)}).status_code
        if status != 403:
            wrong.append(f"{status} {built[1]} ({rule.endpoint})")
    assert wrong == []
