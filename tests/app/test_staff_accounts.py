"""Staff accounts in the browser (issue 18): an administrator (or the DSL) invites a member
of staff by email (a one-time link, valid for a short time, to set a password and then the
authenticator), changes a role, switches off a leaver (their sessions end at once,
everywhere), resets a second step, and sees when each account last signed in. Every change
is an audit event naming who made it; another school's accounts and other roles reach none
of it."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal import audit_view
from portal.admin import staff
from portal.logging import scrub_server_message
from portal.models import Event, OutboxMessage, Role, StaffInvite, User, utcnow
from tests.conftest import PASSWORD, TOTP_SECRETS, Browser, next_code

STRONG = "lantern orbit pickle meadow"


@pytest.fixture
def admin(app, school, make_user) -> tuple[User, Browser]:
    user = make_user(Role.ADMIN, school)
    browser = Browser(app.test_client())
    assert browser.login(user.email).status_code == 302
    return user, browser


def invite(browser: Browser, email="new.teacher@oakfield.test", name="Mr New",
           role="staff"):
    return browser.submit("/staff/school/staff", {"invite_email": email, "invite_name": name,
                                                 "invite_role": role})


def link_from_outbox(session, email="new.teacher@oakfield.test") -> str:
    session.expire_all()
    rows = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "staff_invite")
                           .order_by(OutboxMessage.id)).all()
    mine = [r for r in rows if r.to_address == email]
    assert mine, "no invitation email"
    found = re.search(r"http://[^\s]+/staff/invite/([A-Za-z0-9_-]+)", mine[-1].body)
    assert found, mine[-1].body
    return f"/staff/invite/{found.group(1)}"


def accept(app, link: str, password: str = STRONG) -> tuple[Browser, object]:
    """The new member of staff opens the link, sets a password and enrols their phone."""
    new = Browser(app.test_client())
    response = new.submit(link, {"new_password": password, "repeat_password": password})
    return new, response


def enrol(new: Browser, email: str) -> None:
    page = new.client.get("/staff/login/enrol").get_data(as_text=True)
    secret = re.search(r"data-totp-secret>([A-Z2-7 ]+)<", page).group(1).replace(" ", "")
    TOTP_SECRETS[email.lower()] = secret
    done = new.submit("/staff/login/enrol", {"otp": next_code(email)})
    assert done.status_code == 200
    assert "recovery" in done.get_data(as_text=True).lower()


def test_an_invited_member_of_staff_sets_a_password_then_an_authenticator(
        app, admin, session, school):
    _user, browser = admin
    response = invite(browser)
    assert response.status_code == 302
    account = session.scalar(select(User).where(User.email == "new.teacher@oakfield.test"))
    assert (account.role, account.school_id, account.is_active) == (Role.STAFF, school.id, True)
    link = link_from_outbox(session)
    # Until then, no password signs in
    assert Browser(app.test_client()).submit("/staff/login", {
        "email": account.email, "password": staff.NO_PASSWORD}).status_code == 200
    new, done = accept(app, link)
    assert done.status_code == 302
    assert done.headers["Location"].endswith("/staff/login/enrol")
    enrol(new, account.email)
    accepted = session.scalars(select(Event).where(Event.action == "user.invite_accepted"))
    assert [e.actor_id for e in accepted] == [account.id]
    assert "Mr New" in new.get("/staff/concerns/new").get_data(as_text=True)
    # The link worked once
    again = Browser(app.test_client()).client.get(link)
    assert again.status_code == 404
    assert "This link no longer works" in again.get_data(as_text=True)
    # and they sign in with the password they chose from now on
    other = Browser(app.test_client())
    assert other.login(account.email, STRONG).status_code == 302


def test_a_weak_or_mismatched_password_is_refused_in_words_and_the_link_stays_open(
        app, admin, session):
    invite(admin[1])
    link = link_from_outbox(session)
    _new, weak = accept(app, link, "password123")
    assert weak.status_code == 400
    assert "easy to guess" in weak.get_data(as_text=True) or \
        "12 characters" in weak.get_data(as_text=True)
    new = Browser(app.test_client())
    odd = new.submit(link, {"new_password": STRONG, "repeat_password": STRONG + "x"})
    assert odd.status_code == 400
    assert "not the same" in odd.get_data(as_text=True)
    _new, good = accept(app, link)
    assert good.status_code == 302


def test_an_expired_link_or_one_replaced_by_a_newer_one_no_longer_works(app, admin, session):
    user, browser = admin
    invite(browser)
    first = link_from_outbox(session)
    account = session.scalar(select(User).where(User.email == "new.teacher@oakfield.test"))
    sent = browser.submit("/staff/school/staff", {},
                          action=f"/staff/school/staff/{account.id}/send-link")
    assert sent.status_code == 302
    second = link_from_outbox(session)
    assert first != second
    assert Browser(app.test_client()).client.get(first).status_code == 404
    assert Browser(app.test_client()).client.get(second).status_code == 200
    row = session.scalar(select(StaffInvite).where(StaffInvite.ended_at.is_(None)))
    row.expires_at = utcnow() - timedelta(minutes=1)
    session.commit()
    assert Browser(app.test_client()).client.get(second).status_code == 404


def test_switching_off_a_leaver_ends_their_sessions_everywhere_at_once(
        app, admin, session, school, make_user):
    leaver = make_user(Role.STAFF, school)
    laptop, phone = Browser(app.test_client()), Browser(app.test_client())
    assert laptop.login(leaver.email).status_code == 302
    assert phone.login(leaver.email).status_code == 302
    assert laptop.get("/staff/").status_code == 200
    user, browser = admin
    off = browser.submit("/staff/school/staff", {},
                         action=f"/staff/school/staff/{leaver.id}/disable")
    assert off.status_code == 302
    for device in (laptop, phone):
        response = device.get("/staff/")
        assert response.status_code == 302
        assert "/staff/login" in response.headers["Location"]
    assert Browser(app.test_client()).submit("/staff/login", {
        "email": leaver.email, "password": PASSWORD}).status_code == 200  # refused
    (event,) = session.scalars(select(Event).where(Event.action == "user.disabled"))
    assert (event.actor_id, event.payload) == (user.id, {"user_id": leaver.id,
                                                         "sessions_ended": 2})
    on = browser.submit("/staff/school/staff", {},
                        action=f"/staff/school/staff/{leaver.id}/enable")
    assert on.status_code == 302
    assert Browser(app.test_client()).login(leaver.email).status_code == 302


def test_a_role_changes_and_the_change_is_in_the_audit_trail(app, admin, session, school,
                                                            make_user):
    teacher = make_user(Role.STAFF, school)
    user, browser = admin
    changed = browser.submit("/staff/school/staff", {f"u{teacher.id}-role": "head"},
                             action=f"/staff/school/staff/{teacher.id}/role")
    assert changed.status_code == 302
    session.expire_all()
    assert session.get(User, teacher.id).role is Role.HEAD
    rows = audit_view.page(session, school.id, audit_view.Asked(), 1).rows
    assert any(r.what == f"Role of {teacher.name} changed from staff to head"
               and r.who == user.name for r in rows)


def test_an_administrator_cannot_give_report_access_to_anyone_only_the_dsl_can(
        app, admin, session, school, make_user):
    """The DSL team reads every report: an administrator who could make any account (one
    they control, say) a deputy DSL could read them all (trial H1)."""
    teacher = make_user(Role.STAFF, school)
    deputy = make_user(Role.DEPUTY_DSL, school)
    _user, browser = admin
    for role in ("dsl", "deputy_dsl"):
        refused = browser.submit("/staff/school/staff", {f"u{teacher.id}-role": role},
                                 action=f"/staff/school/staff/{teacher.id}/role")
        assert refused.status_code == 400
        assert "Only the Designated Safeguarding Lead gives" in refused.get_data(as_text=True)
        invited = invite(browser, email=f"mine-{role}@oakfield.test", role=role)
        assert invited.status_code == 400
        assert "Only the Designated Safeguarding Lead gives" in invited.get_data(as_text=True)
    # nor take it away, nor switch a switched-off deputy back on
    demoted = browser.submit("/staff/school/staff", {f"u{deputy.id}-role": "staff"},
                             action=f"/staff/school/staff/{deputy.id}/role")
    assert demoted.status_code == 400
    off = make_user(Role.DEPUTY_DSL, school)
    off.is_active = False
    session.commit()
    assert browser.submit("/staff/school/staff", {},
                          action=f"/staff/school/staff/{off.id}/enable").status_code == 400
    session.expire_all()
    assert not session.get(User, off.id).is_active
    assert session.get(User, teacher.id).role is Role.STAFF
    assert session.get(User, deputy.id).role is Role.DEPUTY_DSL
    assert session.scalar(select(User).where(User.email.like("mine-%"))) is None


def test_the_dsl_gives_the_deputy_role_and_the_rest_of_the_team_is_told(
        app, session, school, make_user):
    dsl = make_user(Role.DSL, school)
    other_deputy = make_user(Role.DEPUTY_DSL, school)
    teacher = make_user(Role.STAFF, school)
    browser = Browser(app.test_client())
    browser.login(dsl.email)
    changed = browser.submit("/staff/school/staff", {f"u{teacher.id}-role": "deputy_dsl"},
                             action=f"/staff/school/staff/{teacher.id}/role")
    assert changed.status_code == 302
    session.expire_all()
    assert session.get(User, teacher.id).role is Role.DEPUTY_DSL
    told = [m for m in session.scalars(select(OutboxMessage).where(
        OutboxMessage.kind == "dsl_team_changed"))]
    assert [m.to_address for m in told] == [other_deputy.email]
    assert teacher.email in told[0].body
    assert dsl.name in told[0].body
    invited = invite(browser, email="second.deputy@oakfield.test", role="deputy_dsl")
    assert invited.status_code == 302
    session.expire_all()
    told = [m.to_address for m in session.scalars(select(OutboxMessage).where(
        OutboxMessage.kind == "dsl_team_changed"))]
    assert sorted(told) == sorted([other_deputy.email, other_deputy.email, teacher.email])


def test_the_last_dsl_who_can_read_reports_is_never_switched_off_or_moved_out(
        app, admin, session, school, make_user):
    """Reports must never be left with nobody to read them (trial H2)."""
    only = make_user(Role.DSL, school)
    _user, browser = admin
    refused = browser.submit("/staff/school/staff", {},
                             action=f"/staff/school/staff/{only.id}/disable")
    assert refused.status_code == 400
    assert "the only DSL or deputy DSL who can read reports" in refused.get_data(as_text=True)
    session.expire_all()
    assert session.get(User, only.id).is_active
    # a deputy who has only been invited (no password yet) reads nothing: still refused
    session.add(User(email="invited.deputy@oakfield.test", display_name="Ms Invited",
                     password_hash=staff.NO_PASSWORD, role=Role.DEPUTY_DSL,
                     school_id=school.id))
    session.commit()
    assert browser.submit("/staff/school/staff", {},
                          action=f"/staff/school/staff/{only.id}/disable").status_code == 400
    # with a deputy who can read them, the DSL who leaves is switched off
    make_user(Role.DEPUTY_DSL, school)
    assert browser.submit("/staff/school/staff", {},
                          action=f"/staff/school/staff/{only.id}/disable").status_code == 302
    session.expire_all()
    assert not session.get(User, only.id).is_active


def test_the_dsl_cannot_move_the_last_deputy_out_when_the_dsl_is_switched_off(
        app, session, school, make_user):
    dsl = make_user(Role.DSL, school)
    deputy = make_user(Role.DEPUTY_DSL, school)
    browser = Browser(app.test_client())
    browser.login(dsl.email)
    assert browser.submit("/staff/school/staff", {f"u{deputy.id}-role": "staff"},
                          action=f"/staff/school/staff/{deputy.id}/role").status_code == 302
    session.expire_all()
    assert session.get(User, deputy.id).role is Role.STAFF


def test_urgent_emails_go_only_to_dsl_team_accounts_that_are_set_up(session, school,
                                                                     make_user):
    """An invitation not taken up is nobody reading: urgent alerts to it would tell the DSL
    team something was sent that no one received (trial M7)."""
    from portal.notifications import dsl_addresses

    dsl = make_user(Role.DSL, school)
    session.add(User(email="not.yet@oakfield.test", display_name="Mr Not Yet",
                     password_hash=staff.NO_PASSWORD, role=Role.DEPUTY_DSL,
                     school_id=school.id))
    session.commit()
    assert dsl_addresses(session, school.id) == [dsl.email]


def test_an_invitation_link_sets_a_password_once_even_when_sent_twice_at_once(
        app, admin, session, school):
    """Two sends racing (two tabs, two app servers): the second finds the link ended by the
    first's UPDATE and changes nothing (trial M1)."""
    invite(admin[1])
    link = link_from_outbox(session)
    token = link.rsplit("/", 1)[1]
    first = staff.open_link(session, token)
    second_session = type(session)(bind=session.get_bind())
    second = staff.open_link(second_session, token)
    assert second is not None
    staff.accept(session, first, STRONG, STRONG)
    session.commit()
    hash_after_first = session.get(User, first.user_id).password_hash
    with pytest.raises(staff.StaffError, match="used already"):
        staff.accept(second_session, second, "other river candle stone",
                     "other river candle stone")
    second_session.rollback()
    second_session.close()
    session.expire_all()
    assert session.get(User, first.user_id).password_hash == hash_after_first
    accepted = session.scalars(select(Event).where(Event.action == "user.invite_accepted"))
    assert len(accepted.all()) == 1


@pytest.mark.parametrize("role", ["trust_lead", "superuser", ""])
def test_a_role_the_school_cannot_give_is_refused_in_words(app, admin, session, school,
                                                          make_user, role):
    teacher = make_user(Role.STAFF, school)
    refused = admin[1].submit("/staff/school/staff", {f"u{teacher.id}-role": role},
                              action=f"/staff/school/staff/{teacher.id}/role")
    assert refused.status_code == 400
    assert "Choose one of the roles listed" in refused.get_data(as_text=True)
    session.expire_all()
    assert session.get(User, teacher.id).role is Role.STAFF


def test_nobody_switches_off_or_demotes_themselves(app, admin, session):
    user, browser = admin
    page = browser.get("/staff/school/staff").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    for action, data in (("disable", {}), ("role", {f"u{user.id}-role": "staff"}),
                         ("reset-second-step", {}), ("reset-password", {})):
        response = browser.client.post(f"/staff/school/staff/{user.id}/{action}",
                                       data={"csrf_token": token, **data})
        assert response.status_code == 400
        assert "your own account" in response.get_data(as_text=True)
    session.expire_all()
    me = session.get(User, user.id)
    assert (me.is_active, me.role) == (True, Role.ADMIN)


def test_resetting_a_second_step_sends_them_to_set_it_up_again(app, admin, session, school,
                                                               make_user):
    lost = make_user(Role.DSL, school)
    signed_in = Browser(app.test_client())
    signed_in.login(lost.email)
    reset = admin[1].submit("/staff/school/staff", {},
                            action=f"/staff/school/staff/{lost.id}/reset-second-step")
    assert reset.status_code == 302
    session.expire_all()
    assert session.get(User, lost.id).totp_secret is None
    assert signed_in.get("/staff/").status_code == 302  # signed out
    again = Browser(app.test_client()).submit("/staff/login", {"email": lost.email,
                                                              "password": PASSWORD})
    assert again.headers["Location"].endswith("/staff/login/enrol")
    (event,) = session.scalars(select(Event).where(Event.action == "user.2fa_reset"))
    assert event.actor_id == admin[0].id


def test_a_forgotten_password_is_reset_by_a_link_to_their_own_email(
        app, admin, session, school, make_user):
    """The office resets it; the old password stops at once, they are signed out, and only
    their own mailbox gets the link; the authenticator stays (trial M8)."""
    forgot = make_user(Role.STAFF, school, email="forgot@oakfield.test")
    signed_in = Browser(app.test_client())
    signed_in.login(forgot.email)
    reset = admin[1].submit("/staff/school/staff", {},
                            action=f"/staff/school/staff/{forgot.id}/reset-password")
    assert reset.status_code == 302
    assert signed_in.get("/staff/").status_code == 302  # signed out
    assert Browser(app.test_client()).submit("/staff/login", {
        "email": forgot.email, "password": PASSWORD}).status_code == 200  # old one refused
    session.expire_all()
    mails = session.scalars(select(OutboxMessage).where(
        OutboxMessage.kind == "staff_invite")).all()
    assert [m.to_address for m in mails] == [forgot.email]
    assert "reset your Tell Us password" in mails[0].body
    page = admin[1].get("/staff/school/staff").get_data(as_text=True)
    assert "Password reset: has not set a new one yet" in page
    link = link_from_outbox(session, forgot.email)
    new, done = accept(app, link)
    assert done.status_code == 302
    assert done.headers["Location"].endswith("/staff/login")  # the authenticator stays
    again = Browser(app.test_client()).submit("/staff/login", {"email": forgot.email,
                                                              "password": STRONG})
    assert again.headers["Location"].endswith("/staff/login/code")
    assert session.get(User, forgot.id).totp_secret is not None
    actions = [e.action for e in session.scalars(select(Event).order_by(Event.id))]
    assert "user.password_reset" in actions
    assert "user.invite_accepted" in actions


def test_the_list_says_when_each_account_last_signed_in(app, admin, session, school,
                                                        make_user):
    never = make_user(Role.STAFF, school)
    page = admin[1].get("/staff/school/staff").get_data(as_text=True)
    assert never.email in page
    def card(user_id: int) -> str:
        start = page.index(f'id="account-{user_id}"')
        end = page.find('class="child-record"', start)
        return page[start:end if end > 0 else None]

    assert "Last signed in: never" in card(never.id)
    assert "Last signed in: never" not in card(admin[0].id)


def test_the_invitation_form_refuses_bad_input_keeping_what_was_typed(app, admin, session,
                                                                      school, make_user):
    existing = make_user(Role.STAFF, school)
    for data, words in (
            ({"invite_email": "not-an-address", "invite_name": "Ms A", "invite_role": "staff"},
             "Give their email address"),
            ({"invite_email": existing.email, "invite_name": "Ms A", "invite_role": "staff"},
             "There is an account for"),
            ({"invite_email": "a@oakfield.test", "invite_name": "", "invite_role": "staff"},
             "Give the name"),
            ({"invite_email": "b@oakfield.test", "invite_name": "<script>x</script>",
              "invite_role": "trust_lead"}, "Choose one of the roles listed"),
            # trial M9: a trailing dot, an empty label; text that reads backwards in the
            # audit trail; a second "Test staff" nobody could tell apart in the records
            ({"invite_email": "c@oakfield.test.", "invite_name": "Ms C", "invite_role": "staff"},
             "Give their email address"),
            ({"invite_email": "c@oakfield..test", "invite_name": "Ms C", "invite_role": "staff"},
             "Give their email address"),
            ({"invite_email": "d@oakfield.test", "invite_name": "Mr \u202eDSL\u202c",
              "invite_role": "staff"}, "invisible characters"),
            ({"invite_email": "e@oakfield.test", "invite_name": "test STAFF",
              "invite_role": "staff"}, "can tell apart")):
        response = admin[1].submit("/staff/school/staff", data)
        assert response.status_code == 400
        text = response.get_data(as_text=True)
        assert words in text
        assert "<script>x</script>" not in text
    assert session.scalar(select(User).where(User.email == "a@oakfield.test")) is None
    assert session.scalar(select(func.count()).select_from(User)) == 2


def test_another_schools_accounts_and_other_roles_reach_none_of_it(
        app, admin, session, school, make_school, make_user):
    elm = make_school("elm", "Elm Academy")
    theirs = make_user(Role.STAFF, elm)
    page = admin[1].get("/staff/school/staff").get_data(as_text=True)
    assert theirs.email not in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    for action in ("disable", "role", "reset-second-step", "reset-password", "send-link",
                   "enable"):
        response = admin[1].client.post(f"/staff/school/staff/{theirs.id}/{action}",
                                        data={"csrf_token": token})
        assert response.status_code == 404
    for role in (Role.STAFF, Role.HEAD, Role.DEPUTY_DSL):
        other = Browser(app.test_client())
        other.login(make_user(role, school).email)
        assert other.get("/staff/school/staff").status_code == 403
    session.expire_all()
    assert session.get(User, theirs.id).is_active


def test_an_open_invitation_link_is_never_written_to_a_log_line():
    line = 'GET /staff/invite/Zk3vQ9_x-AbCdEf0123456789abcdefGHIJ HTTP/1.1" 200'
    assert "Zk3vQ9" not in scrub_server_message(line)
    assert "/staff/invite/[link]" in scrub_server_message(line)


@pytest.mark.parametrize("path", ["/staff/%69nvite/", "/staff/%49NVITE/", "//staff//invite/",
                                  "/staff%2Finvite/", "/%73taff/invite/"])
def test_an_invitation_link_sent_percent_encoded_is_not_logged_either(path):
    """"/staff/%69nvite/TOKEN" reaches the invitation page; gunicorn logs the path as sent
    (trial, low)."""
    line = f'GET {path}Zk3vQ9_x-AbCdEf0123456789abcdefGHIJ HTTP/1.1" 200'
    assert "Zk3vQ9" not in scrub_server_message(line)



# --- the second trial ---------------------------------------------------------------------


def test_the_only_dsl_whose_password_was_reset_still_cannot_be_switched_off(
        app, admin, session, school, make_user):
    """A reset left no account "that can read", and then the last-reader check let the
    switch-off through: nobody could read reports, and nothing in the browser undid it."""
    only = make_user(Role.DSL, school)
    browser = admin[1]
    assert browser.submit("/staff/school/staff", {},
                          action=f"/staff/school/staff/{only.id}/reset-password"
                          ).status_code == 302
    refused = browser.submit("/staff/school/staff", {},
                             action=f"/staff/school/staff/{only.id}/disable")
    assert refused.status_code == 400
    assert "the only DSL or deputy DSL who can read reports" in refused.get_data(as_text=True)
    session.expire_all()
    assert session.get(User, only.id).is_active


def at_once(app, school, make_user, *sends) -> list[int]:
    """Each send(browser, csrf_token) -> status, run at the same moment by its own signed-in
    administrator: two offices pressing a button together. The statuses, in order."""
    import threading

    offices = []
    for _ in sends:
        office = Browser(app.test_client())
        office.login(make_user(Role.ADMIN, school).email)
        page = office.get("/staff/school/staff").get_data(as_text=True)
        offices.append((office, re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)))
    start = threading.Barrier(len(sends))
    codes = [0] * len(sends)

    def run(n: int) -> None:
        start.wait()
        codes[n] = sends[n](*offices[n])

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(sends))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return codes


def test_two_administrators_switching_off_the_last_two_readers_at_once_leave_one(
        app, session, school, make_user):
    dsl, deputy = make_user(Role.DSL, school), make_user(Role.DEPUTY_DSL, school)

    def switch_off(target: User):
        return lambda office, token: office.client.post(
            f"/staff/school/staff/{target.id}/disable", data={"csrf_token": token}).status_code

    codes = at_once(app, school, make_user, switch_off(dsl), switch_off(deputy))
    assert sorted(codes) == [302, 400]
    session.expire_all()
    assert [session.get(User, u.id).is_active for u in (dsl, deputy)].count(True) == 1


def test_a_sign_in_half_done_ends_when_the_password_is_reset(app, admin, session, school,
                                                              make_user):
    """The password step, then the office resets the password, then the code: it signed in
    with a password the account no longer had."""
    forgot = make_user(Role.STAFF, school)
    halfway = Browser(app.test_client())
    assert halfway.submit("/staff/login", {"email": forgot.email, "password": PASSWORD}
                          ).headers["Location"].endswith("/staff/login/code")
    assert admin[1].submit("/staff/school/staff", {},
                           action=f"/staff/school/staff/{forgot.id}/reset-password"
                           ).status_code == 302
    page = halfway.client.get("/staff/login/code")
    assert page.status_code == 302
    assert page.headers["Location"].endswith("/staff/login")
    assert halfway.client.get("/staff/").status_code == 302


def test_the_same_address_invited_twice_at_once_makes_one_account_and_no_error_page(
        app, session, school, make_user):
    def send(name: str):
        return lambda office, token: office.client.post("/staff/school/staff", data={
            "csrf_token": token, "invite_email": "twice@oakfield.test", "invite_name": name,
            "invite_role": "staff"}).status_code

    codes = at_once(app, school, make_user, send("Ms Twice"), send("Ms Twice Again"))
    assert sorted(codes) == [302, 400]
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(User)
                          .where(User.email == "twice@oakfield.test")) == 1


@pytest.mark.parametrize("name", [
    "Test  staff", "Test\u00a0staff", "TEST STAFF",  # spaces and case
    "Test sta\u00adff", "Test staff\u034f", "Test staff\ufe0f", "Test staff\U000e0041",
])
def test_a_name_that_only_looks_like_another_accounts_is_refused(app, admin, session,
                                                                  school, make_user, name):
    """Double spaces, no-break spaces, soft hyphens, joiners, variation selectors and tags
    made two rows nobody could tell apart (second trial)."""
    make_user(Role.STAFF, school)  # "Test staff"
    refused = invite(admin[1], email="lookalike@oakfield.test", name=name)
    assert refused.status_code == 400
    text = refused.get_data(as_text=True)
    assert "can tell apart" in text or "invisible characters" in text
    assert session.scalar(select(User).where(User.email == "lookalike@oakfield.test")) is None


@pytest.mark.parametrize(("first", "second"), [("Jos\u00e9 Diaz", "Jose\u0301 Diaz"),
                                               ("\u00c9MILE Roy", "\u00e9mile Roy")])
def test_one_name_written_two_ways_is_one_name(app, admin, session, first, second):
    assert invite(admin[1], email="one@oakfield.test", name=first).status_code == 302
    refused = invite(admin[1], email="two@oakfield.test", name=second)
    assert refused.status_code == 400
    assert "can tell apart" in refused.get_data(as_text=True)


@pytest.mark.parametrize("name", ["\u3164", "\u3164\u3164 \u3164"])
def test_a_name_of_blank_looking_letters_is_refused(app, admin, session, name):
    refused = invite(admin[1], email="blank@oakfield.test", name=name)
    assert refused.status_code == 400
    assert session.scalar(select(User).where(User.email == "blank@oakfield.test")) is None


def test_an_email_address_with_a_hidden_character_is_refused(app, admin, session):
    refused = invite(admin[1], email="a\u202e19@oakfield.test", name="Ms Hidden")
    assert refused.status_code == 400
    assert "Give their email address" in refused.get_data(as_text=True)
