"""No GET changes data (SECURITY.md P5, issue 13 item 4): every GET route of the app,
requested by a role that may use it with real ids, leaves every table as it was.

The one write a GET may make is its audit event (P11: "every view ... of a report is an
append-only event"; "viewing writes an event"): the events table may only gain rows whose
action is a viewing one. Besides that, a signed-in member of staff's session row keeps
the time it was last used (``staff_sessions.last_seen_at``, at most once a minute): the
idle timeout of P6 is judged on the server, so activity must reach it. That column is a
session's clock, not a record, and is the only one left out of the comparison.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.engine import Connection

from portal.casework import notices
from portal.figures.model import recent_terms, term_of
from portal.models import Base, ChecklistItem, Report, Role, SchoolContact, StaffSession, Trust
from portal.overdue import LOCAL
from portal.triage import operations as triage_ops
from tests.conftest import (
    Browser,
    a_share_to,
    a_transfer_from,
    an_invitation,
    kept_evidence_and_staff_concern,
)

TODAY = datetime.now(UTC).astimezone(LOCAL).date()
LAST_TERM = recent_terms(TODAY)[0]

# The audit actions a GET may add: looking at a case, a pupil or a file (P11).
VIEW_ACTIONS = frozenset({"case.viewed", "pupil.viewed", "evidence.downloaded",
                          "search.run",  # a search is recorded with what was searched for
                          # the figures looked at, or leaving as a CSV or a PDF
                          "figures.viewed", "figures.exported",
                          # a case or a child's record leaving as a PDF (issue 16)
                          "case.exported", "pupil.exported",
                          # the audit trail read, on the page or as a CSV
                          "audit.viewed", "audit.exported",
                          # a transferred child's record read (issue 16)
                          "transfer.viewed",
                          # a case another school of the trust shares, read there
                          "share.viewed"})
SESSION_CLOCK = ("staff_sessions", "last_seen_at")
# A finished term is fixed the first time a head or a trust lead is shown it (figures rule 6):
# rows may be added to this table by a GET, never changed.
FIXED_ON_FIRST_LOOK = "figure_term_columns"
# Who asks for each staff page: the first of these its declaration lets in.
ASKERS = (Role.DSL, Role.TRUST_LEAD, Role.ADMIN, Role.STAFF)
# Some pages read their query string too: these variants are asked as well.
QUERIES = {"triage.queue": ["?status=all", "?status=closed&kind=online", "?mine=1&page=2"],
           "triage.case": ["?q=Oak"], "admin.roster": ["?q=Oak"],
           "triage.search_reports": ["?q=names", "?q=names&page=2"],
           # a whole term (what the head may choose too), and this term so far
           "figures.page": [f"?from={LAST_TERM.start}&to={LAST_TERM.end}",
                            f"?from={term_of(TODAY).start}&to={TODAY}"],
           "triage.principal_notices": ["?page=2", "?page=x"],
           "triage.audit": ["?kind=viewed&page=2", "?pupil=1"]}
# Pages asked by a second role too, whose answer differs by role (a head sees no links).
ALSO_ASKED_BY = {"triage.principal_notices": Role.HEAD, "figures.page": Role.HEAD}


Snapshot = dict[str, list[tuple[Any, ...]]]


def snapshot(conn: Connection) -> Snapshot:
    """Every row of every table the models define, in primary-key order."""
    tables: Snapshot = {}
    for table in Base.metadata.sorted_tables:
        columns = [c for c in table.columns if (table.name, c.name) != SESSION_CLOCK]
        keys = list(table.primary_key.columns) or columns
        tables[table.name] = [tuple(row) for row in
                              conn.execute(select(*columns).order_by(*keys)).all()]
    return tables


def changes(before: Snapshot, after: Snapshot) -> list[str]:
    """What differs, except new view events; an empty list when nothing else changed."""
    found = []
    for name, rows in before.items():
        now = after[name]
        if name == "events":
            action = [c.name for c in Base.metadata.tables["events"].columns].index("action")
            added = now[len(rows):]
            if now[:len(rows)] != rows:
                found.append("events: an earlier event changed or went")
            found.extend(f"events: a {row[action]!r} event" for row in added
                         if row[action] not in VIEW_ACTIONS)
        elif name == FIXED_ON_FIRST_LOOK and all(row in now for row in rows):
            continue  # only added
        elif now != rows:
            found.append(f"{name}: {len(rows)} rows before, {len(now)} after, or a value changed")
    return found


@pytest.fixture
def world(app: Flask, school, session, make_report, make_user,
          make_school) -> dict[str, Any]:
    """A school in a trust; a report with a kept file and one from before checklists
    started at arrival (none attached: a GET that attached them would show); a pupil; a
    concern a member of staff wrote; a signed-in browser per role."""
    trust = Trust(name="Test Trust")
    session.add(trust)
    session.flush()
    school.trust_id = trust.id
    session.commit()
    users = {role: make_user(role, None if role == Role.TRUST_LEAD else school,
                             trust_id=trust.id) for role in Role}
    report, _code = make_report(school, kinds=["online"],
                                what_happened="they posted they are gonna kill me")
    old, _code = make_report(school, kinds=["online"])
    before_0014 = session.get(Report, old.id)
    before_0014.checklist_items.clear()
    before_0014.checklists.clear()
    item, pupil, concern = kept_evidence_and_staff_concern(app, session, school, report,
                                                           users[Role.STAFF])
    contact = SchoolContact(school_id=school.id, name="Ms Head", role="principal",
                            email="head@oakfield.test")
    session.add(contact)
    session.commit()
    # a notice to the Principal (cyber-bullying policy 4.4), for the head's page to list
    notices.send_step_notice(session, report, actor=users[Role.DSL], step="cyber-4.4",
                             to=[contact], seen={}, mark_done=False,
                             base_url="http://127.0.0.1:5000")
    session.commit()
    browsers = {}
    for role, user in users.items():
        browsers[role] = Browser(app.test_client())
        assert browsers[role].login(user.email).status_code == 302
    # Every session last used two minutes ago: the pages below move its clock on.
    for row in session.scalars(select(StaffSession)):
        row.last_seen_at -= timedelta(minutes=2)
    session.commit()
    elm = make_school("elm", "Elm Academy")
    transfer_id = a_transfer_from(session, school, elm, users[Role.DSL])
    elm_report, _code = make_report(elm)
    share_id = a_share_to(session, elm_report.id, elm, school, make_user(Role.DSL, elm))
    return {"users": users, "browsers": browsers, "slug": school.slug,
            "ids": {"report_id": report.id, "evidence_id": item.id, "pupil_id": pupil.id,
                    "contact_id": contact.id, "transfer_id": transfer_id,
                    "share_id": share_id,
                    "token": an_invitation(session, school, users[Role.ADMIN])},
            "old_id": old.id, "concern_id": concern.id}


def requests(app: Flask, world: dict[str, Any]) -> Iterator[tuple[Any, str]]:
    """(client, url) for every GET rule: staff pages as a role allowed on them, the rest
    signed out; path arguments filled with real ids."""
    anonymous = app.test_client()
    values = {**world["ids"], "slug": world["slug"], "filename": "css/portal.css"}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if "GET" not in (rule.methods or set()):
            continue
        assert set(rule.arguments) <= values.keys(), f"no value for {rule.rule}"
        built = rule.build({a: values[a] for a in rule.arguments}, append_unknown=False)
        assert built, rule.rule
        url = built[1]
        roles = getattr(app.view_functions[rule.endpoint], "allowed_roles", frozenset())
        asker = next((role for role in ASKERS if role in roles), None)
        client = world["browsers"][asker].client if asker else anonymous
        for query in ["", *QUERIES.get(rule.endpoint, [])]:
            yield client, url + query
            if rule.endpoint in ALSO_ASKED_BY:
                yield world["browsers"][ALSO_ASKED_BY[rule.endpoint]].client, url + query
        if rule.endpoint == "triage.case":
            yield client, url.replace(str(world["ids"]["report_id"]), str(world["old_id"]))
            # a member of staff reads the concern they wrote
            yield world["browsers"][Role.STAFF].client, \
                url.replace(str(world["ids"]["report_id"]), str(world["concern_id"]))


def test_every_get_route_leaves_the_database_as_it_was(app: Flask, world: dict[str, Any]):
    engine = app.extensions["portal.engine"]
    # /metrics is off unless configured (portal.metrics): on here, for the test client
    app.config["PORTAL_SETTINGS"] = dataclasses.replace(
        app.config["PORTAL_SETTINGS"], metrics_from=(ipaddress.ip_network("127.0.0.1/32"),))
    asked = []
    for client, url in requests(app, world):
        with engine.connect() as conn:
            before = snapshot(conn)
        response = client.get(url)
        status = response.status_code
        response.close()
        assert status < 400, f"{status} {url}"
        with engine.connect() as conn:
            after = snapshot(conn)
        assert changes(before, after) == [], url
        asked.append(url)
    # the walk reached the pages that matter (the case page twice over, files, pupils)
    assert {f"/staff/cases/{world['old_id']}", "/staff/", "/s/oakfield/pupil",
            f"/staff/pupils/{world['ids']['pupil_id']}", "/staff/notices"} <= set(asked)
    with engine.connect() as conn:  # and those views were audited
        actions = {row[0] for row in conn.execute(select(Base.metadata.tables["events"].c.action))}
    assert {"case.viewed", "pupil.viewed", "evidence.downloaded"} <= actions
    with engine.connect() as conn:  # viewing the old case attached nothing
        assert conn.execute(select(ChecklistItem.id).where(
            ChecklistItem.report_id == world["old_id"])).first() is None


def test_the_comparison_sees_a_write(app: Flask, world: dict[str, Any], session):
    """The check is not blind: a changed value or a non-view event is reported."""
    engine = app.extensions["portal.engine"]
    with engine.connect() as conn:
        before = snapshot(conn)
    report = session.get(Report, world["ids"]["report_id"])
    report.urgency += 1
    session.commit()
    with engine.connect() as conn:
        assert changes(before, snapshot(conn)) == ["reports: 4 rows before, 4 after, or a "
                                                   "value changed"]
    triage_ops.add_note(session, report, actor=world["users"][Role.DSL], note="A note")
    session.commit()
    with engine.connect() as conn:
        assert "events: a 'note.added' event" in changes(before, snapshot(conn))
