"""The people around the case (issue 14): the member of staff who recorded a concern is
told, with no details, when the safeguarding team acts on it and when it is closed; the
cyber-bullying policy's "Inform Principal and Senior Management team" (4.4), "Inform the
LA/MAT eSafety officer" (4.9), "Inform Principal and Senior Leadership Team" (5.4) and
"Inform MAT eSafety officer" (5.8) send their notice from the step; and the adult a pupil
chose is told a pupil asked for them, when the DSL decides to.

Every email goes once through the outbox and carries no report text and no child's name.
"""

from __future__ import annotations

import re
import time
from email import message_from_bytes

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from portal.casework import concern_author, notices
from portal.events import Action
from portal.models import (
    Event,
    ItemState,
    Notice,
    OutboxMessage,
    Report,
    ReportAdult,
    Role,
    SchoolContact,
    TrustedAdult,
)
from portal.notifications import SmtpSettings, deliver
from portal.triage import operations as ops
from portal.vocabulary import Status
from tests.app.test_outbox import free_port
from tests.conftest import hidden_fields

BASE = "http://127.0.0.1:5000"
WORDS = "Jordan pushed Casey into the lockers and filmed it"
SCRIPT = "<script>alert('x')</script>"


# --- fixtures --------------------------------------------------------------------------


@pytest.fixture
def dsl(make_user, school):
    return make_user(Role.DSL, school, email="dsl@oakfield.test")


@pytest.fixture
def teacher(make_user, school):
    return make_user(Role.STAFF, school, email="teacher@oakfield.test")


@pytest.fixture
def concern(session, teacher):
    """A concern written by a member of staff, with words a leak would show."""
    report = ops.record_concern(
        session, actor=teacher, told_by="Casey Brown", told_by_class="8R",
        what_happened=WORDS, kinds=["physical"], places=[], when=None, feels_safe=None,
        people_involved="Jordan Smith")
    session.commit()
    return report


@pytest.fixture
def online(make_report, school, session):
    """A pupil's report of online bullying: the cyber-bullying checklist (4.1-4.9) is on it."""
    report, _code = make_report(school, kinds=["online"], what_happened=WORDS,
                                anonymous="no", reporter_name="Casey Brown",
                                reporter_class="8R")
    assert {"cyber-4.4", "cyber-4.9"} <= {i.key for i in report.checklist_items}
    return report


@pytest.fixture
def contacts(session, school, dsl):
    """One contact of every role."""
    made = {role: notices.add_contact(session, school, actor=dsl, name=name, role=role,
                                      email=f"{role}@oakfield.test")
            for role, name in [("principal", "Dr Head"), ("slt", "Mr Deputy"),
                               ("la_esafety", "Ms Council"), ("mat_esafety", "Mx Trust")]}
    session.commit()
    return made


def outbox(session, kind=None):
    session.expire_all()
    query = select(OutboxMessage).order_by(OutboxMessage.id)
    if kind:
        query = query.where(OutboxMessage.kind == kind)
    return list(session.scalars(query))


def events(session, action, report_id=None):
    query = select(Event).where(Event.action == action.value)
    if report_id is not None:
        query = query.where(Event.report_id == report_id)
    return list(session.scalars(query))


def assert_no_details(body: str) -> None:
    """None of the report's words, and no child's name, are in an email."""
    for word in [*WORDS.split(), "Casey", "Brown", "Jordan", "Smith", "8R"]:
        if len(word) > 3:
            assert word.lower() not in body.lower(), word


def step(report, key):
    return next(i for i in report.checklist_items if i.key == key)


# --- the member of staff who recorded the concern (ops, no HTTP) ------------------------


def test_the_author_is_told_once_when_acted_on_and_once_when_closed_without_details(
        session, dsl, teacher, concern):
    ops.add_note(session, concern, actor=dsl, note="Spoke to form tutor.")
    ops.add_note(session, concern, actor=dsl, note="Second note: no second email.")
    session.commit()
    (acted,) = outbox(session, "author_told")
    assert acted.to_address == teacher.email
    assert "has seen and acted on the concern you recorded on" in acted.body
    assert f"{BASE}/staff/cases/{concern.id}" in acted.body
    assert "Spoke to" not in acted.body
    assert "tutor" not in acted.body
    assert_no_details(acted.body + acted.subject)

    ops.change_status(session, concern, actor=dsl, status=Status.CLOSED,
                      reason="Resolved with both pupils.", override="Handled in person.",
                      base_url=BASE)
    ops.add_note(session, concern, actor=dsl, note="After closing: no email.")
    session.commit()
    told = outbox(session, "author_told")
    assert len(told) == 2
    assert "has closed the concern" in told[1].body
    assert "Resolved" not in told[1].body
    assert "Handled" not in told[1].body
    assert_no_details(told[1].body + told[1].subject)
    stages = [e.payload for e in events(session, Action.AUTHOR_TOLD, concern.id)]
    assert stages == [{"stage": "acted", "user_id": teacher.id},
                      {"stage": "closed", "user_id": teacher.id}]


def test_a_reopened_concern_closed_again_tells_the_author_again(session, dsl, concern):
    for status in (Status.CLOSED, Status.IN_REVIEW, Status.CLOSED):
        ops.change_status(session, concern, actor=dsl, status=status, reason="Reason given.",
                          override="Handled in person.", base_url=BASE)
    session.commit()
    bodies = [m.body for m in outbox(session, "author_told")]
    # the first action closed it: one email says so (not "acted" and "closed" at once)
    assert len(bodies) == 2
    assert all("has closed" in b for b in bodies)


def test_a_dsl_acting_on_their_own_concern_is_not_emailed(session, dsl):
    report = ops.record_concern(session, actor=dsl, told_by="A pupil", told_by_class="",
                                what_happened=WORDS, kinds=[], places=[], when=None,
                                feels_safe=None, people_involved="")
    ops.acknowledge(session, report, actor=dsl)
    session.commit()
    assert outbox(session, "author_told") == []
    assert events(session, Action.AUTHOR_TOLD) == []


def test_pupil_reports_have_no_author_to_tell(session, dsl, online):
    ops.acknowledge(session, online, actor=dsl)
    session.commit()
    assert outbox(session, "author_told") == []


def test_the_authors_state_is_new_then_acted_then_closed(session, dsl, concern):
    assert concern_author.concern_state(concern) == "new"
    ops.acknowledge(session, concern, actor=dsl)
    assert concern_author.concern_state(concern) == "acted"
    ops.change_status(session, concern, actor=dsl, status=Status.CLOSED, reason="Done now.",
                      override="Handled in person.", base_url=BASE)
    assert concern_author.concern_state(concern) == "closed"


# --- the school's contacts (ops) -----------------------------------------------------------


def test_contacts_are_added_edited_and_deactivated_each_with_an_event(session, school, dsl):
    contact = notices.add_contact(session, school, actor=dsl, name="Dr Head",
                                  role="principal", email="head@oakfield.test")
    assert notices.edit_contact(session, contact, actor=dsl, name="Dr Head", role="slt",
                                email="deputy@oakfield.test") == ["role", "email"]
    notices.set_contact_active(session, contact, actor=dsl, active=False)
    session.commit()
    assert [e.action for e in session.scalars(
        select(Event).where(Event.action.like("contact.%")).order_by(Event.id))] == [
        "contact.added", "contact.edited", "contact.deactivated"]
    with pytest.raises(notices.ContactError, match="already"):
        notices.set_contact_active(session, contact, actor=dsl, active=False)


@pytest.mark.parametrize(("name", "role", "email", "message"), [
    ("", "principal", "a@b.test", "name"),
    ("x" * 121, "principal", "a@b.test", "120"),
    ("Dr Head", "governor", "a@b.test", "role"),
    ("Dr Head", "principal", "not-an-address", "email address"),
])
def test_a_contact_that_does_not_fit_is_refused(session, school, dsl, name, role, email,
                                                message):
    with pytest.raises(notices.ContactError, match=message):
        notices.add_contact(session, school, actor=dsl, name=name, role=role, email=email)


# --- notices from the checklist steps (ops) -----------------------------------------------


def test_step_4_4_tells_the_principal_once_and_marks_the_step_done(session, dsl, online,
                                                                  contacts):
    """Cyber-bullying policy 4.4: "Inform Principal and Senior Management team"."""
    head = contacts["principal"]
    sent = notices.send_step_notice(session, online, actor=dsl, step="cyber-4.4", to=[head],
                                    seen={}, mark_done=True, base_url=BASE)
    session.commit()
    assert sent.told == [head]
    assert sent.already == []
    (mail,) = outbox(session, "step_notice")
    assert mail.to_address == "principal@oakfield.test"
    school_name = online.school.name
    for needed in (school_name, f"case number {online.id}", "4.4",
                   "Inform Principal and Senior Management team", dsl.name,
                   f"{BASE}/staff/cases/{online.id}"):
        assert needed in mail.body, needed
    assert_no_details(mail.body + mail.subject)
    (event,) = events(session, Action.NOTICE_SENT, online.id)
    assert event.payload == {"contact_id": head.id, "step": "cyber-4.4", "role": "principal"}
    assert event.actor_id == dsl.id
    item = step(online, "cyber-4.4")
    assert item.state == ItemState.DONE
    assert re.fullmatch(r"Told Dr Head by email on \d\d \w{3} \d{4}", item.note)
    assert online.acknowledged_at is not None  # the first action acknowledges

    # The same press again (the page still says 0 sends): nothing more goes.
    again = notices.send_step_notice(session, online, actor=dsl, step="cyber-4.4", to=[head],
                                     seen={head.id: 0}, mark_done=True, base_url=BASE)
    session.commit()
    assert again.told == []
    assert again.already == [head]
    assert len(outbox(session, "step_notice")) == 1
    # Asked again on purpose, from the page as it is now: it goes again.
    on_purpose = notices.send_step_notice(session, online, actor=dsl, step="cyber-4.4",
                                          to=[head], seen={head.id: 1}, mark_done=True,
                                          base_url=BASE)
    session.commit()
    assert on_purpose.told == [head]
    assert len(outbox(session, "step_notice")) == 2
    assert len(events(session, Action.NOTICE_SENT, online.id)) == 2


def test_without_mark_done_the_step_stays_open(session, dsl, online, contacts):
    notices.send_step_notice(session, online, actor=dsl, step="cyber-4.9",
                             to=[contacts["la_esafety"], contacts["mat_esafety"]], seen={},
                             mark_done=False, base_url=BASE)
    assert step(online, "cyber-4.9").state == ItemState.OPEN
    assert len(outbox(session, "step_notice")) == 2


@pytest.mark.parametrize(("key", "role"), [
    ("cyber-4.4", "la_esafety"), ("cyber-4.4", "mat_esafety"), ("cyber-4.9", "principal"),
    ("cyber-4.9", "slt"),
])
def test_a_contact_of_the_wrong_role_is_refused_for_that_step(session, dsl, online, contacts,
                                                              key, role):
    with pytest.raises(notices.NoticeRefused, match="asks to inform"):
        notices.send_step_notice(session, online, actor=dsl, step=key, to=[contacts[role]],
                                 seen={}, mark_done=True, base_url=BASE)
    session.rollback()
    assert outbox(session, "step_notice") == []


def test_step_5_8_asks_for_the_mat_officer_only(session, dsl, make_report, school, contacts):
    report, _ = make_report(school, kinds=["online"],
                            what_happened="they said they are gonna kill me")
    session.refresh(report)
    assert "cyber-5.8" in {i.key for i in report.checklist_items}
    with pytest.raises(notices.NoticeRefused):
        notices.send_step_notice(session, report, actor=dsl, step="cyber-5.8",
                                 to=[contacts["la_esafety"]], seen={}, mark_done=True,
                                 base_url=BASE)
    sent = notices.send_step_notice(session, report, actor=dsl, step="cyber-5.8",
                                    to=[contacts["mat_esafety"]], seen={}, mark_done=True,
                                    base_url=BASE)
    assert sent.told == [contacts["mat_esafety"]]


def test_another_schools_contact_and_missing_steps_are_refused(session, dsl, online,
                                                              make_school, make_user, contacts):
    other = make_school("elm", "Elm Academy")
    theirs = notices.add_contact(session, other, actor=make_user(Role.ADMIN, other),
                                 name="Their Head", role="principal", email="h@elm.test")
    with pytest.raises(notices.NoticeRefused, match="school's contacts"):
        notices.send_step_notice(session, online, actor=dsl, step="cyber-4.4", to=[theirs],
                                 seen={}, mark_done=True, base_url=BASE)
    with pytest.raises(notices.NoticeRefused, match="does not have that step"):
        notices.send_step_notice(session, online, actor=dsl, step="cyber-5.4",
                                 to=[contacts["principal"]], seen={}, mark_done=True,
                                 base_url=BASE)
    with pytest.raises(notices.NoticeRefused, match="does not ask"):
        notices.send_step_notice(session, online, actor=dsl, step="cyber-4.1",
                                 to=[contacts["principal"]], seen={}, mark_done=True,
                                 base_url=BASE)
    notices.set_contact_active(session, contacts["principal"], actor=dsl, active=False)
    with pytest.raises(notices.NoticeRefused, match="no longer"):
        notices.send_step_notice(session, online, actor=dsl, step="cyber-4.4",
                                 to=[contacts["principal"]], seen={}, mark_done=True,
                                 base_url=BASE)
    with pytest.raises(ops.ReasonRequired, match="Choose who"):
        notices.send_step_notice(session, online, actor=dsl, step="cyber-4.4", to=[],
                                 seen={}, mark_done=True, base_url=BASE)
    session.rollback()
    assert outbox(session, "step_notice") == []


def test_the_same_round_taken_twice_sends_once(session, dsl, online, contacts, monkeypatch):
    """Two presses at the same moment both ask for round 1: the unique key gives it to
    one (the row written by the first, as a second worker would find it)."""
    head = contacts["principal"]
    session.add(Notice(report_id=online.id, kind="contact", step="cyber-4.4",
                       person_id=head.id, round=1))
    session.flush()
    # this press counted before the other's row was there: it still asks for round 1
    monkeypatch.setattr(notices, "_count", lambda *_a: 0)
    assert notices._take(session, online, actor=dsl, kind=notices.NoticeKind.CONTACT,
                         step="cyber-4.4", person_id=head.id, seen=0) is False
    session.commit()  # the savepoint kept the rest of the transaction usable
    assert session.scalar(select(func.count()).select_from(Notice)) == 1


# --- the adult the pupil chose (ops) -----------------------------------------------------


@pytest.fixture
def patel(session, school, make_user, dsl):
    """Mrs Patel, a trusted adult, with a staff account linked."""
    adult = next(a for a in school.trusted_adults if a.name == "Mrs Patel")
    account = make_user(Role.STAFF, school, email="patel@oakfield.test")
    notices.link_adult_account(session, adult, actor=dsl, user=account)
    session.commit()
    return adult


def test_the_chosen_adult_is_kept_by_id_and_told_once_without_details(
        session, school, dsl, make_report, patel):
    """"Offering an immediate opportunity to discuss the experience with ... a member of
    staff of their choice": the DSL tells the adult, who sees the DSL first."""
    report, _ = make_report(school, what_happened=WORDS, adult=str(patel.id),
                            anonymous="no", reporter_name="Casey Brown", reporter_class="8R")
    assert session.get(ReportAdult, report.id).adult_id == patel.id
    assert notices.chosen_adult(session, report) == patel
    assert notices.tell_adult(session, report, actor=dsl, seen=0) is True
    assert notices.tell_adult(session, report, actor=dsl, seen=0) is False  # same press
    session.commit()
    (mail,) = outbox(session, "adult_told")
    assert mail.to_address == "patel@oakfield.test"
    assert "A pupil at" in mail.body
    assert "asked to talk to you" in mail.body
    assert f"Please see {dsl.name}" in mail.body
    assert_no_details(mail.body + mail.subject)
    (event,) = events(session, Action.ADULT_TOLD, report.id)
    assert event.payload == {"adult_id": patel.id, "user_id": patel.user_id}
    assert notices.tell_adult(session, report, actor=dsl, seen=1) is True  # on purpose
    assert len(outbox(session, "adult_told")) == 2


def test_an_older_report_finds_its_adult_by_name(session, school, dsl, make_report, patel):
    report, _ = make_report(school, adult=str(patel.id))
    session.delete(session.get(ReportAdult, report.id))  # as stored before 0018
    session.commit()
    assert report.preferred_adult == "Mrs Patel"
    assert notices.chosen_adult(session, report) == patel


def test_an_adult_without_an_account_or_any_adult_cannot_be_told(session, school, dsl,
                                                                 make_report):
    okafor = next(a for a in school.trusted_adults if a.name == "Mr Okafor")
    report, _ = make_report(school, adult=str(okafor.id))
    assert notices.adult_account(session, okafor) is None
    with pytest.raises(notices.NoticeRefused, match="no staff account"):
        notices.tell_adult(session, report, actor=dsl, seen=0)
    anyone, _ = make_report(school, adult="anyone")
    assert notices.chosen_adult(session, anyone) is None


def test_a_trusted_adult_links_only_to_an_active_account_of_the_school(
        session, school, dsl, make_school, make_user):
    adult = school.trusted_adults[0]
    other = make_user(Role.STAFF, make_school("elm", "Elm Academy"))
    with pytest.raises(notices.ContactError, match="this school"):
        notices.link_adult_account(session, adult, actor=dsl, user=other)
    admin = make_user(Role.ADMIN, school)
    with pytest.raises(notices.ContactError):
        notices.link_adult_account(session, adult, actor=dsl, user=admin)
    with pytest.raises(notices.ContactError, match="already"):
        notices.link_adult_account(session, adult, actor=dsl, user=None)


# --- the real SMTP server on loopback ----------------------------------------------------


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content)))
        return "250 OK"


def test_every_notice_is_delivered_once_by_smtp_and_says_nothing_of_the_report(
        session, dsl, teacher, concern, online, contacts, patel, make_report, school):
    report, _ = make_report(school, what_happened=WORDS, adult=str(patel.id))
    ops.acknowledge(session, concern, actor=dsl)
    notices.send_step_notice(session, online, actor=dsl, step="cyber-4.4",
                             to=[contacts["principal"], contacts["slt"]], seen={},
                             mark_done=True, base_url=BASE)
    notices.tell_adult(session, report, actor=dsl, seen=0)
    session.commit()
    port = free_port()
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        smtp = SmtpSettings.from_url(f"smtp://127.0.0.1:{port}?from=tellus@school.test")
        assert deliver(session, smtp) == (4, 0)
        assert deliver(session, smtp) == (0, 0)  # sent once
        deadline = time.monotonic() + 5
        while len(inbox.messages) < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        controller.stop()
    assert sorted(to for tos, _m in inbox.messages for to in tos) == [
        "patel@oakfield.test", "principal@oakfield.test", "slt@oakfield.test",
        "teacher@oakfield.test"]
    for _tos, message in inbox.messages:
        assert message.get_content_type() == "text/plain"
        assert_no_details(message.get_payload(decode=True).decode() + message["Subject"])


# --- through the pages ---------------------------------------------------------------------


def signed_in(browser, user):
    assert browser.login(user.email).status_code in (200, 302)
    return browser


def form_fields(html: str, form_id: str) -> dict[str, str]:
    """The hidden fields of the form with ``form_id`` (several forms post to one address)."""
    start = html.index(f'id="{form_id}"')
    start = html.rindex("<form", 0, start + 1) if "<form" in html[start - 300:start] else start
    chunk = html[start:html.index("</form>", start)]
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', chunk)) | \
        {"csrf_token": re.search(r'name="csrf_token"[^>]*value="([^"]+)"',
                                 chunk).group(1)}


def test_the_case_page_sends_a_step_notice_once_however_often_the_form_arrives(
        browser, session, dsl, online, contacts):
    signed_in(browser, dsl)
    page = f"/staff/cases/{online.id}"
    html = browser.get(page).get_data(as_text=True)
    assert html.count('id="notices"') == 1
    assert html.index('id="checklists"') < html.index('id="notices"')
    assert "Send notice to (Principal or Senior leadership team)" in html
    fields = form_fields(html, "notice-cyber-4.4")
    assert fields["step"] == "cyber-4.4"
    data = {**fields, "contacts": [str(contacts["principal"].id)], "mark_done": "y"}
    sent = browser.client.post(f"{page}/notices", data=data)
    assert sent.status_code == 302
    assert sent.headers["Location"].endswith("#notices")
    # Reload re-sending the form, a double click, a second tab: the same form again.
    again = browser.client.post(f"{page}/notices", data=data)
    assert again.status_code == 302
    assert len(outbox(session, "step_notice")) == 1
    after = browser.get(page).get_data(as_text=True)
    assert "Already sent to Dr Head: not sent again" in after  # the second press's message
    assert "Dr Head (Principal)" in after  # in "Notices sent"
    assert "sent 1 time" in after
    session.expire_all()
    assert session.get(Report, online.id).checklist_items
    assert step(session.get(Report, online.id), "cyber-4.4").state == ItemState.DONE
    # asked again on purpose, from the page as it is now
    fresh = form_fields(after, "notice-cyber-4.4")
    assert fresh["seen"].startswith(f"{contacts['principal'].id}:1")
    browser.client.post(f"{page}/notices", data={**fresh, "contacts":
                                                 [str(contacts["principal"].id)]})
    assert len(outbox(session, "step_notice")) == 2


def test_a_refused_notice_comes_back_with_what_was_ticked(browser, session, dsl, online,
                                                          contacts):
    signed_in(browser, dsl)
    page = f"/staff/cases/{online.id}"
    fields = form_fields(browser.get(page).get_data(as_text=True), "notice-cyber-4.9")
    # nobody chosen, and the "mark done" box unticked: 400, the box still unticked
    refused = browser.client.post(f"{page}/notices", data=fields)
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert "Nothing was sent. Choose who to tell" in html
    box = re.search(r'<input[^>]*id="n\d+-done"[^>]*>', html[html.index('id="notice-cyber-4.9"'):])
    assert "checked" not in box.group(0)
    # the wrong role for the step (forged: the page never offers the Principal for 4.9)
    wrong = browser.client.post(f"{page}/notices", data={
        **fields, "contacts": [str(contacts["la_esafety"].id), str(contacts["principal"].id)],
        "mark_done": "y"})
    html = wrong.get_data(as_text=True)
    assert wrong.status_code == 400
    assert "Dr Head is the Principal" in html
    chunk = html[html.index('id="notice-cyber-4.9"'):]
    assert re.search(rf'value="{contacts["la_esafety"].id}" checked', chunk)
    assert outbox(session, "step_notice") == []


@pytest.mark.parametrize("token", ["missing", "forged"])
def test_a_notice_without_a_good_csrf_token_sends_nothing(browser, session, dsl, online,
                                                          contacts, token):
    signed_in(browser, dsl)
    page = f"/staff/cases/{online.id}"
    fields = form_fields(browser.get(page).get_data(as_text=True), "notice-cyber-4.4")
    if token == "missing":
        del fields["csrf_token"]
    else:
        fields["csrf_token"] = "x" * 40
    refused = browser.client.post(f"{page}/notices", data={
        **fields, "contacts": [str(contacts["slt"].id)]})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert re.search(rf'value="{contacts["slt"].id}" checked',
                     html[html.index('id="notice-cyber-4.4"'):])
    assert outbox(session, "step_notice") == []


def test_another_schools_contact_id_is_not_found(browser, session, dsl, online, make_school,
                                                 make_user):
    other = make_school("elm", "Elm Academy")
    theirs = notices.add_contact(session, other, actor=make_user(Role.ADMIN, other),
                                 name="Their Head", role="principal", email="h@elm.test")
    session.commit()
    signed_in(browser, dsl)
    page = f"/staff/cases/{online.id}"
    fields = form_fields(browser.get(page).get_data(as_text=True), "notice-cyber-4.4")
    response = browser.client.post(f"{page}/notices", data={**fields,
                                                             "contacts": [str(theirs.id)]})
    assert response.status_code == 404
    for hostile in ["abc", "99999999999", "-1"]:
        response = browser.client.post(f"{page}/notices", data={**fields,
                                                                 "contacts": [hostile]})
        assert response.status_code == 400
    forged = browser.client.post(f"{page}/notices", data={**fields, "step": "cyber-4.1",
                                                          "contacts": []})
    assert forged.status_code == 400
    bad_seen = browser.client.post(f"{page}/notices", data={**fields, "seen": "x" * 5000})
    assert bad_seen.status_code == 400
    assert outbox(session, "step_notice") == []


def test_names_with_script_are_shown_as_text(browser, session, dsl, online, school):
    notices.add_contact(session, school, actor=dsl, name=SCRIPT, role="principal",
                        email="s@oakfield.test")
    session.commit()
    signed_in(browser, dsl)
    html = browser.get(f"/staff/cases/{online.id}").get_data(as_text=True)
    assert SCRIPT not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html


def test_the_adult_button_tells_them_once_and_reload_sends_nothing(
        browser, session, school, dsl, make_report, patel):
    report, _ = make_report(school, adult=str(patel.id))
    signed_in(browser, dsl)
    page = f"/staff/cases/{report.id}"
    html = browser.get(page).get_data(as_text=True)
    assert "The pupil asked to talk to Mrs Patel" in html
    assert "Tell Mrs Patel a pupil asked for them" in html
    fields = hidden_fields(html, f"{page}/adult-notice")
    assert browser.client.post(f"{page}/adult-notice", data=fields).status_code == 302
    assert browser.client.post(f"{page}/adult-notice", data=fields).status_code == 302
    assert len(outbox(session, "adult_told")) == 1
    after = browser.get(page).get_data(as_text=True)
    assert "Tell Mrs Patel again" in after
    assert "Mrs Patel, by" in after
    forged = browser.client.post(f"{page}/adult-notice", data={**fields, "seen": "lots"})
    assert forged.status_code == 400


def test_no_button_for_an_adult_without_an_account(browser, session, school, dsl,
                                                   make_report):
    okafor = next(a for a in school.trusted_adults if a.name == "Mr Okafor")
    report, _ = make_report(school, adult=str(okafor.id))
    signed_in(browser, dsl)
    html = browser.get(f"/staff/cases/{report.id}").get_data(as_text=True)
    assert "The pupil asked to talk to Mr Okafor" in html
    assert "adult-notice-form" not in html
    assert "has no staff account linked" in html


def test_my_concerns_shows_the_same_plain_state_as_the_email(browser, session, dsl, teacher,
                                                             concern):
    signed_in(browser, teacher)
    assert "Nobody has acted on it yet" in browser.get("/staff/").get_data(as_text=True)
    ops.acknowledge(session, concern, actor=dsl)
    session.commit()
    listing = browser.get("/staff/").get_data(as_text=True)
    assert "has seen your concern and is looking into it" in listing
    page = browser.get(f"/staff/cases/{concern.id}").get_data(as_text=True)
    assert "has seen your concern and is looking into it" in page
    assert "Told" not in page  # nothing of the chronology


def test_the_chronology_shows_who_was_told_when(browser, session, dsl, online, contacts,
                                                concern):
    notices.send_step_notice(session, online, actor=dsl, step="cyber-4.4",
                             to=[contacts["principal"]], seen={}, mark_done=True, base_url=BASE)
    ops.acknowledge(session, concern, actor=dsl)
    session.commit()
    signed_in(browser, dsl)
    html = browser.get(f"/staff/cases/{online.id}").get_data(as_text=True)
    assert "Notice emailed to the school&#39;s principal" in html
    html = browser.get(f"/staff/cases/{concern.id}").get_data(as_text=True)
    assert "who recorded the concern, that the safeguarding team has acted on it" in html


# --- the admin page -------------------------------------------------------------------------


@pytest.fixture
def admin(make_user, school):
    return make_user(Role.ADMIN, school)


def test_the_admin_adds_changes_and_stops_using_a_contact(browser, session, admin):
    signed_in(browser, admin)
    added = browser.submit("/staff/school/contacts", {"name": "Dr Head", "role": "principal",
                                                      "email": "head@oakfield.test"})
    assert added.status_code == 302
    (contact,) = session.scalars(select(SchoolContact)).all()
    page = f"/staff/school/contacts/{contact.id}"
    changed = browser.submit(page, {"name": "Dr Head", "role": "slt",
                                    "email": "head@oakfield.test"})
    assert changed.status_code == 302
    html = browser.get("/staff/school/contacts").get_data(as_text=True)
    assert "Senior leadership team" in html
    stop = browser.submit("/staff/school/contacts", {},
                          action=f"/staff/school/contacts/{contact.id}/active")
    assert stop.status_code == 302
    session.expire_all()
    assert session.get(SchoolContact, contact.id).role == "slt"
    assert session.get(SchoolContact, contact.id).active is False
    assert len(session.scalars(select(Event).where(Event.action.like("contact.%"))).all()) == 3


def test_a_refused_contact_keeps_what_was_typed(browser, session, admin):
    signed_in(browser, admin)
    refused = browser.submit("/staff/school/contacts", {"name": SCRIPT, "role": "principal",
                                                        "email": "not an address"})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert "Enter an email address like" in html
    assert 'value="not an address"' in html
    assert SCRIPT not in html
    assert "&lt;script&gt;" in html
    assert session.scalar(select(func.count()).select_from(SchoolContact)) == 0
    long = browser.submit("/staff/school/contacts", {"name": "x" * 500, "role": "governor",
                                                     "email": "a@b.test"})
    assert long.status_code == 400


def test_the_admin_links_a_trusted_adult_to_a_staff_account(browser, session, admin, school,
                                                           make_user, make_school):
    teacher = make_user(Role.STAFF, school, email="patel@oakfield.test")
    other = make_user(Role.STAFF, make_school("elm", "Elm Academy"))
    adult = school.trusted_adults[0]
    signed_in(browser, admin)
    action = f"/staff/school/adults/{adult.id}/account"
    assert browser.submit("/staff/school/contacts", {"account": str(teacher.id)},
                          action=action).status_code == 302
    session.expire_all()
    assert session.get(TrustedAdult, adult.id).user_id == teacher.id
    refused = browser.submit("/staff/school/contacts", {"account": str(other.id)},
                             action=action)
    assert refused.status_code == 400
    (event,) = events(session, Action.ADULT_ACCOUNT_LINKED)
    assert event.payload == {"adult_id": adult.id, "from": None, "to": teacher.id}


def test_another_schools_contact_or_adult_is_not_found(browser, session, admin, make_school,
                                                       make_user):
    other = make_school("elm", "Elm Academy")
    theirs = notices.add_contact(session, other, actor=make_user(Role.ADMIN, other),
                                 name="Their Head", role="principal", email="h@elm.test")
    session.commit()
    signed_in(browser, admin)
    assert browser.get(f"/staff/school/contacts/{theirs.id}").status_code == 404
    page = browser.get("/staff/school/contacts").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    assert browser.client.post(f"/staff/school/contacts/{theirs.id}/active",
                               data={"csrf_token": token}).status_code == 404
    assert browser.client.post(f"/staff/school/adults/{other.trusted_adults[0].id}/account",
                               data={"csrf_token": token, "account": "none"}).status_code == 404


@pytest.mark.parametrize("role", [Role.DSL, Role.DEPUTY_DSL, Role.STAFF, Role.HEAD,
                                  Role.TRUST_LEAD])
def test_only_the_admin_keeps_the_contacts(browser, make_user, school, role):
    user = make_user(role, None if role == Role.TRUST_LEAD else school)
    signed_in(browser, user)
    assert browser.get("/staff/school/contacts").status_code == 403


@pytest.mark.parametrize("role", [Role.STAFF, Role.HEAD, Role.ADMIN])
def test_only_the_dsl_team_sends_notices(browser, make_user, school, online, role, session,
                                         contacts):
    signed_in(browser, make_user(role, school))
    page = f"/staff/cases/{online.id}"
    for path in ("notices", "adult-notice"):
        response = browser.client.post(f"{page}/{path}", data={"step": "cyber-4.4"})
        assert response.status_code in (400, 403, 404)
    assert outbox(session, "step_notice") == []
