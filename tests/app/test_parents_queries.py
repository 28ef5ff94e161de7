"""The parents' records add a fixed number of queries to the case page and the pupil page,
however many contacts, records and meetings there are (no N+1)."""

from __future__ import annotations

from datetime import date

from portal.casework import parents
from portal.models import LinkRole, ParentContact, Report
from tests.app.test_queries import link, queries, roster  # noqa: F401 - fixtures


def with_records(session, report: Report, pupils, actor, n: int) -> None:
    """Each linked child gets ``n`` contacts, ``n`` records of parents told and ``n``
    meetings (one of them for every child), held."""
    session.flush()
    parties = [p for p in report.pupil_links]
    for party in parties:
        for i in range(n):
            session.add(ParentContact(pupil_id=party.pupil_id, position=i + 1, priority=i + 1,
                                      name=f"Contact {i}", relationship="Carer",
                                      email="c@example.org", phone="01632 960000"))
            parents.record_parents_told(session, report, party.id, actor=actor,
                                        told_on=date.today(), how="phone", what="Told.",
                                        told_name=f"Parent {i}")
            meeting = parents.invite_to_meeting(session, report, [p.id for p in parties],
                                                actor=actor, invited_on=date.today(),
                                                invited_how="letter")
            parents.complete_meeting(session, report, meeting.id, actor=actor,
                                     outcome="attended", meeting_on=date.today(),
                                     attended="Everyone", agreed="A plan.")
    session.commit()


def test_the_case_page_sends_the_same_queries_for_1_or_6_records_per_child(
        app, browser, dsl, school, session, make_report, roster):  # noqa: F811
    def case_with(n: int) -> list[str]:
        stored, _ = make_report(school)
        report = session.get(Report, stored.id)
        pupils = roster(3)
        for i, pupil in enumerate(pupils):
            link(session, report, pupil, dsl,
                 LinkRole.TARGET if i == 0 else LinkRole.ALLEGED_PERPETRATOR)
        pupils[0].recurring = True
        with_records(session, report, pupils, dsl, n)
        return queries(app, browser, f"/staff/cases/{report.id}")

    one = case_with(1)
    several = case_with(6)

    assert len(several) == len(one), "\n".join(several)


def test_the_pupil_page_sends_the_same_queries_for_1_or_6_records(
        app, browser, dsl, school, session, make_report, roster):  # noqa: F811
    def pupil_with(n: int) -> list[str]:
        pupils = roster(2)
        for _ in range(2):
            stored, _code = make_report(school)
            report = session.get(Report, stored.id)
            for pupil in pupils:
                link(session, report, pupil, dsl)
            with_records(session, report, pupils, dsl, n)
        return queries(app, browser, f"/staff/pupils/{pupils[0].id}")

    one = pupil_with(1)
    several = pupil_with(6)

    assert len(several) == len(one), "\n".join(several)
