"""`portal demo`'s history (issue 15: "the demo has enough history for every chart to
mean something"): both demo schools, a trust over them, and figures in every table."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from portal.accounts import find_school, find_user
from portal.cli import prepare_demo
from portal.demo import DEMO_HEAD_EMAIL
from portal.figures import school_figures, term_of
from portal.figures.__init__ import RARE_KINDS
from portal.models import Notice, Report, Role, SchoolContact
from portal.overdue import LOCAL
from portal.vocabulary import Status
from tests.app.test_figure_counts import assert_in_step


def test_the_demo_history_fills_every_figures_table_and_its_counts_are_in_step(
        app, session):
    """Given a fresh database, when the demo is prepared, then both schools have figures
    in every table for this term or the same term last year, the rare kinds show under the
    small-number rule, the DSL's queue is not flooded, and the day counts equal a rebuild."""
    passwords = prepare_demo(app)
    assert list(passwords)[:2] == ["dsl@demo.school", "trust@demo.school"]
    session.expire_all()
    period = term_of(datetime.now(LOCAL).date())
    oakfield = find_school(session, "demo")
    elm = find_school(session, "demo-elm")
    for school, least in ((oakfield, 100), (elm, 25)):
        figures = school_figures(session, school, period)
        # This term's part depends on how far into the term today is.
        assert figures.total.raw[1] >= least, school.slug
        for table in figures.tables:
            assert any(row.raw != (0, 0) for row in table.rows), (school.slug, table.key)
    figures = school_figures(session, oakfield, period)
    assert figures.roll is not None
    assert figures.roll >= 200
    kinds = {row.key: row for row in figures.table("kind").rows}
    assert all(sum(kinds[k].raw) > 0 for k in RARE_KINDS)
    assert any(kinds[k].now.hidden or kinds[k].last_year.hidden for k in RARE_KINDS)
    assert all(sum(row.raw) > 0 for row in figures.table("better").rows)
    assert all(sum(row.raw) > 0 for row in figures.table("outcome").rows)

    # The queue demo keeps its story; the history adds only a few open cases.
    open_cases = session.scalar(select(func.count()).select_from(Report).where(
        Report.school_id == oakfield.id, Report.status != Status.CLOSED))
    assert 6 <= open_cases <= 6 + 10

    lead = find_user(session, "trust@demo.school")
    assert lead.role is Role.TRUST_LEAD
    assert lead.trust is not None
    assert lead.trust.name == "Demo Learning Trust"
    assert {s.slug for s in lead.trust.schools} == {"demo", "demo-elm"}
    assert_in_step(session)


def test_the_demo_head_is_the_schools_principal_and_has_a_notice_to_read(app, session):
    """The trial found the head's "Notices to the Principal" page always empty in the demo:
    Oakfield had no Principal contact. Now the head is one, told of the group-chat threats
    under cyber-bullying policy 4.4 ("Inform Principal and Senior Management team")."""
    passwords = prepare_demo(app)
    assert DEMO_HEAD_EMAIL in passwords
    head = find_user(session, DEMO_HEAD_EMAIL)
    assert head is not None
    assert head.role is Role.HEAD
    oakfield = find_school(session, "demo")
    contact = session.scalars(select(SchoolContact).where(
        SchoolContact.school_id == oakfield.id)).one()
    assert (contact.email, contact.role) == (DEMO_HEAD_EMAIL, "principal")
    sent = session.scalars(select(Notice).where(Notice.person_id == contact.id)).all()
    assert [n.step for n in sent] == ["cyber-4.4"]
