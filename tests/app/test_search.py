"""Search across the school's reports (issue 14, "Finding things": "has anyone mentioned
Harry before?"), through a keyed blind index that holds no word in plain text."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, text

from portal import search
from portal.cli import cli
from portal.events import Action
from portal.models import Event, Report, Role, SearchTerm
from portal.reporting.operations import reply_to_school
from portal.retention import purge, review
from portal.triage import operations as ops
from portal.vocabulary import Status
from tests.app.test_encryption import raw_dump

# --- normalising words ---------------------------------------------------------------------


@pytest.mark.parametrize("written", ["Harry", "HARRY", "Harry's", "harry,", "Harry’s",
                                     "ＨＡＲＲＹ", "«harry»"])
def test_every_spelling_of_a_name_is_one_word(written):
    assert search.words(f"I saw {written} at lunch") == ["saw", "harry", "lunch"]


def test_accents_and_case_fold_away():
    assert search.words("Zoë ZOE zoe Chloé CHLOE") == ["zoe", "zoe", "zoe", "chloe", "chloe"]
    assert search.words("Straße") == ["strasse"]


def test_short_and_common_words_are_not_indexed():
    assert search.words("I am in 7B and he is a bully to me") == ["am", "7b", "bully"]


def test_a_query_of_only_common_words_is_refused_in_plain_words():
    with pytest.raises(search.SearchError, match="too short or too common"):
        search.parse("the and a")
    with pytest.raises(search.SearchError, match="Type a name"):
        search.parse("   ")
    with pytest.raises(search.SearchError, match="at most 200 characters"):
        search.parse("harry " * 50)
    assert search.parse("Harry and the BUS").words == ("harry", "bus")


def test_the_same_word_has_different_terms_in_two_schools(app):
    assert search.term("harry", 1) != search.term("harry", 2)
    assert search.term("harry", 1) == search.term("harry", 1)
    other_key = b"k" * 32
    assert search.term("harry", 1, other_key) != search.term("harry", 1)


# --- indexing and finding ------------------------------------------------------------------


@pytest.fixture
def dsl(school, make_user):
    return make_user(Role.DSL, school)


def found(session, user, words: str) -> list[int]:
    """The ids of the first page of results (the search's audit event committed)."""
    ids = [hit.report.id for hit in search.search(session, user, words).hits]
    session.commit()
    return ids


def test_search_finds_a_report_by_its_body_people_message_and_note(
        session, school, make_report, dsl):
    by_body, _ = make_report(school, what_happened="Harry took my bag on the bus")
    by_people, _ = make_report(school, who_involved="Olek from Year 6")
    by_parent, _ = make_report(school, "parent", child_name="Priya Shah")
    by_message, _ = make_report(school)
    reply_to_school(session, session.get(Report, by_message.id), "It was Wojciech again")
    by_note, _ = make_report(school)
    ops.add_note(session, session.get(Report, by_note.id), actor=dsl,
                 note="Spoke to Bartholomew's mum")
    session.commit()

    assert found(session, dsl, "harry") == [by_body.id]
    assert found(session, dsl, "BUS harry") == [by_body.id]
    assert found(session, dsl, "olek") == [by_people.id]
    assert found(session, dsl, "priya") == [by_parent.id]
    assert found(session, dsl, "wojciech") == [by_message.id]
    assert found(session, dsl, "bartholomew") == [by_note.id]
    assert found(session, dsl, "harry olek") == []  # every word must match


def test_results_are_newest_first_and_paged(session, school, make_report, dsl):
    made = [make_report(school, what_happened=f"Ravi pushed me {n}")[0].id for n in range(30)]
    old = session.get(Report, made[-1])  # the last stored, dated a year ago
    session.execute(text("UPDATE search_terms SET created_at = :t WHERE report_id = :id"),
                    {"t": old.created_at - timedelta(days=365), "id": old.id})
    session.execute(text("UPDATE reports SET created_at = :t WHERE id = :id"),
                    {"t": old.created_at - timedelta(days=365), "id": old.id})
    session.commit()
    first = search.search(session, dsl, "ravi")
    assert first.count == 30
    assert first.has_next
    assert [h.report.id for h in first.hits] == list(reversed(made[:-1]))[:25]
    second = search.search(session, dsl, "ravi", page=2)
    assert [h.report.id for h in second.hits][-1] == made[-1]
    assert not second.has_next


def test_another_schools_reports_never_appear(session, school, make_school, make_report,
                                              make_user, dsl):
    other = make_school("elm", "Elm Primary")
    theirs, _ = make_report(other, what_happened="Harry hit me")
    ours, _ = make_report(school, what_happened="Harry hit me")
    assert found(session, dsl, "harry") == [ours.id]
    assert found(session, make_user(Role.DSL, other), "harry") == [theirs.id]
    # the two schools' rows for the one word share no term
    terms = session.execute(select(SearchTerm.school_id, SearchTerm.term)
                            .where(SearchTerm.report_id.in_([ours.id, theirs.id]))).all()
    ours_terms = {t for s, t in terms if s == school.id}
    theirs_terms = {t for s, t in terms if s == other.id}
    assert ours_terms
    assert theirs_terms
    assert not ours_terms & theirs_terms


def test_only_the_dsl_team_searches(session, school, make_user):
    for role in (Role.STAFF, Role.ADMIN):
        with pytest.raises(PermissionError):
            search.search(session, make_user(role, school), "harry")


def test_each_search_is_an_audit_event_with_the_query_and_count(session, school, make_report,
                                                                dsl):
    make_report(school, what_happened="Harry again")
    search.search(session, dsl, "Harry")
    session.commit()
    event = session.scalars(select(Event).where(Event.action == Action.SEARCH_RUN.value)).one()
    assert (event.actor_id, event.school_id, event.payload) == (
        dsl.id, school.id, {"query": "Harry", "results": 1})


def test_a_stolen_database_holds_no_word_of_the_index(app, session, school, make_report):
    """SECURITY P13: the term table holds keyed hashes only."""
    make_report(school, what_happened="Zbigniewmarker hurt me", who_involved="Quxleymarker")
    session.commit()
    rows = session.execute(select(SearchTerm)).scalars().all()
    assert rows
    dump = raw_dump(app)
    for word in (b"zbigniewmarker", b"quxleymarker", b"Zbigniewmarker", b"Quxleymarker"):
        assert word not in dump
    assert all(isinstance(r.term, int) for r in rows)
    # the term is not the plain (unkeyed) hash of the word either
    import hashlib
    plain = int.from_bytes(hashlib.sha256(b"quxleymarker").digest()[:8], "big", signed=True)
    assert plain not in {r.term for r in rows}


def test_purge_removes_a_reports_terms(app, session, school, make_report, dsl):
    report, _ = make_report(school, what_happened="Harry again")
    row = session.get(Report, report.id)
    row.status = Status.CLOSED
    row.closed_at = row.created_at
    session.commit()
    assert session.scalar(select(func.count()).select_from(SearchTerm)) > 0
    due = review(session, date.today() + timedelta(days=400))
    assert purge(session, due, app.config["PORTAL_EVIDENCE_DIR"]) == 1
    session.commit()
    assert session.scalar(select(func.count()).select_from(SearchTerm)) == 0
    assert found(session, dsl, "harry") == []


def test_rotate_key_rebuilds_the_index_and_search_still_finds(app, session, school,
                                                              make_report, dsl):
    report, _ = make_report(school, what_happened="Harry took it")
    ops.add_note(session, session.get(Report, report.id), actor=dsl, note="Ask Delphine")
    session.commit()
    before = set(session.scalars(select(SearchTerm.term)))
    result = app.test_cli_runner().invoke(cli, ["rotate-key"])
    assert result.exit_code == 0, result.output
    session.expire_all()
    after = set(session.scalars(select(SearchTerm.term)))
    assert len(after) == len(before)
    assert not before & after
    assert found(session, dsl, "harry") == [report.id]
    assert found(session, dsl, "delphine") == [report.id]


def test_search_reindex_builds_the_index_again(app, session, school, make_report, dsl):
    report, _ = make_report(school, what_happened="Harry took it")
    session.execute(text("DELETE FROM search_terms"))
    session.commit()
    assert found(session, dsl, "harry") == []
    runner = app.test_cli_runner()
    result = runner.invoke(cli, ["search-reindex", "oakfield"])
    assert result.exit_code == 0, result.output
    assert "1 report" in result.output
    assert found(session, dsl, "harry") == [report.id]
    assert runner.invoke(cli, ["search-reindex", "nowhere"]).exit_code != 0
    everything = runner.invoke(cli, ["search-reindex"], catch_exceptions=False)
    assert everything.exit_code == 0, everything.output


def test_seed_indexes_the_reports_it_adds(app, session, school, dsl):
    result = app.test_cli_runner().invoke(
        cli, ["seed", "oakfield", "--reports", "40", "--seed", "3"])
    assert result.exit_code == 0, result.output
    reports = session.scalars(select(Report)).all()
    some = next(r for r in reports if search.words(r.body))
    word = search.words(some.body)[0]
    expected = {r.id for r in reports if word in search.words(" ".join(search.report_texts(r)))}
    assert set(found_all(session, dsl, word)) == expected


def found_all(session, user, word: str) -> list[int]:
    ids: list[int] = []
    page = 1
    while True:
        results = search.search(session, user, word, page)
        session.commit()
        ids += [h.report.id for h in results.hits]
        if not results.has_next:
            return ids
        page += 1


# --- the lookup uses the index ---------------------------------------------------------------


def test_the_lookup_reads_the_index_not_the_table(app, session, school, make_report):
    make_report(school, what_happened="Harry took the ball")
    statement = search.matching(school.id, search.parse("harry ball"))
    engine = app.extensions["portal.engine"]
    compiled = statement.compile(engine, compile_kwargs={"literal_binds": True})
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            plan = " ".join(str(row[-1]) for row in connection.execute(
                text(f"EXPLAIN QUERY PLAN {compiled}")))
            assert "search_terms" in plan or "t0" in plan, plan
            assert "PRIMARY KEY" in plan, plan
            assert "SCAN" not in plan.replace("SCAN t0 USING PRIMARY KEY", ""), plan
            assert "TEMP B-TREE" not in plan, plan  # no sort: the index is the order
        else:
            connection.execute(text("SET enable_seqscan = off"))  # a tiny table: plan as big
            plan = " ".join(str(row[0]) for row in connection.execute(
                text(f"EXPLAIN {compiled}")))
            assert "pk_search_terms" in plan, plan
            assert "Seq Scan" not in plan, plan
            assert "Sort" not in plan, plan


# --- the page --------------------------------------------------------------------------------


@pytest.fixture
def signed_in(browser, dsl):
    browser.login(dsl.email)
    return browser


def test_the_page_shows_results_linking_to_the_case_with_words_marked(
        signed_in, school, make_report):
    """Each result: the case number linking to the case, date, status, source, excerpt."""
    report, _ = make_report(school, what_happened="At lunch Harry's friend took my <b>bag</b>")
    page = signed_in.get("/staff/search?q=harry").get_data(as_text=True)
    assert f'href="/staff/cases/{report.id}"' in page
    assert "<mark>Harry&#39;s</mark>" in page
    assert "&lt;b&gt;bag&lt;/b&gt;" in page
    assert "<b>bag</b>" not in page
    assert "1 report mentions" in page
    assert "From pupil" in page
    assert "New" in page


def test_script_in_the_query_is_escaped(signed_in, school, make_report):
    make_report(school, what_happened="Harry again")
    reply = signed_in.get("/staff/search?q=harry<script>alert(1)</script>")
    page = reply.get_data(as_text=True)
    assert reply.status_code == 200
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page


@pytest.mark.parametrize(("query", "message"), [
    ("", "Type a name or a word to search for."),
    ("a", "too short or too common"),
    ("harry " * 60, "at most 200 characters"),
])
def test_empty_and_over_long_queries_get_a_clear_message(signed_in, query, message):
    reply = signed_in.get("/staff/search", query_string={"q": query})
    assert reply.status_code == 400
    assert message in reply.get_data(as_text=True)


def test_the_form_alone_writes_no_event(signed_in, session):
    before = session.scalar(select(func.count()).select_from(Event))
    assert signed_in.get("/staff/search").status_code == 200
    assert session.scalar(select(func.count()).select_from(Event)) == before


def test_more_than_100_results_are_counted_as_more_than_100(signed_in, session, school,
                                                            make_report):
    first, _ = make_report(school, what_happened="Harry again")
    row = session.get(Report, first.id)
    session.execute(SearchTerm.__table__.insert(), [
        {"school_id": school.id, "term": search.term("harry", school.id),
         "created_at": row.created_at - timedelta(minutes=n), "report_id": row.id}
        for n in range(1, 110)])
    session.commit()
    page = signed_in.get("/staff/search?q=harry").get_data(as_text=True)
    assert "More than 100 reports mention" in page


def test_the_queue_has_the_search_box_and_the_navigation_a_link(signed_in):
    page = signed_in.get("/staff/").get_data(as_text=True)
    assert re.search(r'<form[^>]+action="/staff/search"[^>]+role="search"', page)
    assert 'href="/staff/search"' in page  # the navigation


@pytest.mark.parametrize("role", [Role.STAFF, Role.HEAD, Role.ADMIN, Role.TRUST_LEAD])
def test_other_roles_are_refused_the_page(app, school, make_user, role):
    from tests.conftest import Browser

    user = make_user(role, None if role == Role.TRUST_LEAD else school)
    browser = Browser(app.test_client())
    browser.login(user.email)
    assert browser.get("/staff/search?q=harry").status_code == 403
    assert 'href="/staff/search"' not in browser.get("/staff/").get_data(as_text=True)


def test_the_page_never_decrypts_more_than_it_shows(signed_in, app, session, school,
                                                    make_report):
    for n in range(30):
        make_report(school, what_happened=f"Harry again {n}")
    from tests.app.test_queries import counting

    signed_in.get("/staff/search?q=harry")
    with counting(app) as statements:
        reply = signed_in.get("/staff/search?q=harry")
    assert reply.get_data(as_text=True).count("data-result=") == search.PAGE_SIZE
    loads = [s for s in statements if s.lstrip().upper().startswith("SELECT")
             and "FROM reports" in s and "IN (" in s]
    assert loads, statements


@pytest.mark.parametrize("args", [
    {"q": "harry", "page": "abc"}, {"q": "harry", "page": "-3"},
    {"q": "harry", "page": "99999999999"}, {"q": "harry", "page": "2.5"},
])
def test_a_page_number_of_the_wrong_kind_gives_the_first_or_a_late_page(signed_in, school,
                                                                       make_report, args):
    make_report(school, what_happened="Harry again")
    reply = signed_in.get("/staff/search", query_string=args)
    assert reply.status_code == 200


@pytest.mark.parametrize("query", ["\x00", "'; DROP TABLE reports; --", "%", "*", "\u202e"])
def test_hostile_queries_are_refused_or_searched_as_words(signed_in, session, query):
    reply = signed_in.get("/staff/search", query_string={"q": query})
    assert reply.status_code in (200, 400)
    assert session.scalar(select(func.count()).select_from(Report)) == 0
    assert "Traceback" not in reply.get_data(as_text=True)


def test_another_schools_dsl_never_sees_our_reports_on_the_page(app, school, make_school,
                                                                make_report, make_user):
    from tests.conftest import Browser

    ours, _ = make_report(school, what_happened="Harry again")
    other = make_school("elm", "Elm Primary")
    theirs = Browser(app.test_client())
    theirs.login(make_user(Role.DSL, other).email)
    page = theirs.get("/staff/search?q=harry").get_data(as_text=True)
    assert "No report mentions" in page
    assert f"/staff/cases/{ours.id}" not in page


def test_search_finds_what_the_dsl_recorded_about_the_people_involved(
        app, session, school, make_report, dsl):
    """A trial's finding (issue 14, "Finding things": "has anyone mentioned Harry before?"):
    a party not on the roster, an interview, a child's wish, a support note and a linked
    pupil's name were not found. They are indexed as recorded, and rebuilt by search-reindex
    and rotate-key as they were."""
    from datetime import date

    from portal import linking
    from portal.casework import parties
    from portal.models import LinkRole, PartyKind, Pupil, SupportType

    report = session.get(Report, make_report(school)[0].id)
    other = parties.add_party(session, report, actor=dsl, kind=PartyKind.OTHER_SCHOOL_PUPIL,
                              role=LinkRole.ALLEGED_PERPETRATOR,
                              description="Year 8 at St Mary's called Thaddeus")
    niamh = Pupil(school_id=school.id, upn="N12345", first_name="Niamh", last_name="Edwards")
    session.add(niamh)
    session.flush()
    target = linking.link(session, report, niamh, LinkRole.TARGET, actor=dsl, school=school)
    parties.record_interview(session, report, other, actor=dsl, held_on=date.today(),
                             interviewer="Mrs Patel", present="Mr Okonkwo",
                             account="Said it was only a joke")
    parties.record_voice(session, report, target, actor=dsl, said_on=date.today(),
                         wants="To sit away from the trampoline")
    parties.add_support(session, report, target, actor=dsl, type_=SupportType.SUPPORT,
                        code="reassurance_pastoral", given_by="Mrs Patel",
                        starts_on=date.today(), review_on=None, note="A mentor at lunch")
    session.commit()
    words = ("thaddeus", "niamh edwards", "joke", "okonkwo", "trampoline", "mentor")
    for word in words:
        assert found(session, dsl, word) == [report.id], word
    runner = app.test_cli_runner()
    assert runner.invoke(cli, ["search-reindex", "oakfield"]).exit_code == 0
    for word in words:
        assert found(session, dsl, word) == [report.id], f"{word} after the rebuild"
