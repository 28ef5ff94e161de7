"""The words of the case chronology: one renderer per ``Action``. No Flask here.

Each renderer reads the event's structured payload (``portal.events.SCHEMAS``) and returns
a ``Line``: what happened, and the staff's own words with it (a reason, a note) when it
has some. ``RENDERERS`` holds one for every action; a test checks none is missing.
The page escapes what these return (Jinja autoescape), so they return plain text.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from . import checklists
from .events import Action
from .models import (
    ACTION_LABELS,
    CONTACT_ROLE_LABELS,
    FEELING_LABELS,
    FINDING_LABELS,
    HOW_PHRASES,
    LINK_ROLE_LABELS,
    PARTY_KIND_LABELS,
    SUPPORT_LABELS,
    Event,
)
from .vocabulary import CATEGORY_LABELS, KIND_LABELS, SOURCE_LABELS, STATUS_LABELS


@dataclass(frozen=True)
class Line:
    """One chronology entry's words: what happened, and the staff's words with it."""

    what: str
    detail: str | None = None


@dataclass(frozen=True)
class Names:
    """Who the events name by id, read once for the whole chronology."""

    pupils: Mapping[int, str] = field(default_factory=dict)
    users: Mapping[int, str] = field(default_factory=dict)
    # parties (report_pupils rows) by id: a roster pupil's name or a description
    parties: Mapping[int, str] = field(default_factory=dict)


Renderer = Callable[[dict[str, Any], Names], Line]
RENDERERS: dict[Action, Renderer] = {}


def renders(*actions: Action) -> Callable[[Renderer], Renderer]:
    """Register a renderer for ``actions`` (one renderer per action, never two)."""

    def register(function: Renderer) -> Renderer:
        for action in actions:
            if action in RENDERERS:
                raise ValueError(f"{action} already has a renderer")
            RENDERERS[action] = function
        return function

    return register


def _label(labels: Mapping[Any, str], code: str) -> str:
    """The words for a code, or the code itself if it has none now (a renamed code)."""
    for key, label in labels.items():
        if str(key) == code:
            return label
    return code


def _pupil(names: Names, pupil_id: int) -> str:
    return names.pupils.get(pupil_id, "a pupil")


def _step(checklist: str, step: str) -> str:
    return checklists.step_words(step, checklist)


def _day(iso: str | None) -> str:
    """An ISO date as the pages write it ("2 Dec 2026"); "" for none, and the text itself
    if it is not a date (a payload is never refused when shown)."""
    if iso is None:
        return ""
    try:
        day = date.fromisoformat(iso)
    except ValueError:
        return iso
    return f"{day.day} {day:%b %Y}"


@renders(Action.REPORT_RECEIVED)
def _received(p: dict[str, Any], _n: Names) -> Line:
    source = p["source"]
    by = f" from {_label(SOURCE_LABELS, source).lower()}" if source else ""
    return Line(f"Report received{by}, logged as Allegation of Bullying")


@renders(Action.REPORT_PURGED)
def _purged(p: dict[str, Any], _n: Names) -> Line:
    return Line(f"Report {p['report_id']} of {p['reported_on']} deleted at the end of its "
                f"retention period ({p['retention_class'].replace('_', ' ')})")


@renders(Action.CASE_VIEWED)
def _viewed(_p: dict[str, Any], _n: Names) -> Line:
    return Line("Viewed")


@renders(Action.CASE_ACKNOWLEDGED)
def _acknowledged(_p: dict[str, Any], _n: Names) -> Line:
    return Line("Acknowledged")


@renders(Action.CASE_ASSIGNED)
def _assigned(p: dict[str, Any], n: Names) -> Line:
    if p["to"] is None:
        return Line("Unassigned")
    return Line(f"Assigned to {n.users.get(p['to'], 'someone')}")


@renders(Action.STATUS_CHANGED)
def _status(p: dict[str, Any], _n: Names) -> Line:
    return Line(f"Status: {_label(STATUS_LABELS, p['from'])} → "
                f"{_label(STATUS_LABELS, p['to'])}", p["reason"])


@renders(Action.CATEGORY_CHANGED)
def _category(p: dict[str, Any], _n: Names) -> Line:
    return Line(f"Decision: {_label(CATEGORY_LABELS, p['from'])} → "
                f"{_label(CATEGORY_LABELS, p['to'])}", p["reason"])


@renders(Action.NOTE_ADDED)
def _note(p: dict[str, Any], _n: Names) -> Line:
    return Line("Staff note", p["note"])


@renders(Action.KINDS_CHANGED)
def _kinds(p: dict[str, Any], _n: Names) -> Line:
    def words(codes: list[str]) -> str:
        return "; ".join(KIND_LABELS.get(k, k) for k in codes) or "none"

    was = f" (before: {words(p['from'])})" if p["from"] else ""
    cut = "" if p["complete"] else " (the old record of this change was cut short)"
    return Line(f"Kinds recorded: {words(p['to'])}{was}{cut}", p["reason"])


@renders(Action.CHECKLIST_ADDED)
def _checklist(p: dict[str, Any], _n: Names) -> Line:
    title = checklists.titles().get(p["checklist"], p["checklist"])
    return Line(f"Checklist added: {title}")


@renders(Action.STEP_UPDATED)
def _step_updated(p: dict[str, Any], _n: Names) -> Line:
    return Line(f"Step “{_step(p['checklist'], p['step'])}”: {p['to'].replace('_', ' ')}",
                p["note"])


@renders(Action.ACTION_RECORDED)
def _action(p: dict[str, Any], _n: Names) -> Line:
    return Line(_label(ACTION_LABELS, p["action"]), p["note"])


@renders(Action.MESSAGE_TO_REPORTER)
def _message_out(_p: dict[str, Any], _n: Names) -> Line:
    return Line("Message sent to the reporter")


@renders(Action.MESSAGE_FROM_REPORTER)
def _message_in(_p: dict[str, Any], _n: Names) -> Line:
    return Line("The reporter replied")


@renders(Action.EVIDENCE_DOWNLOADED)
def _downloaded(_p: dict[str, Any], _n: Names) -> Line:
    return Line("Evidence file downloaded")


@renders(Action.HOLD_SET)
def _hold_set(p: dict[str, Any], _n: Names) -> Line:
    return Line("Legal hold placed", p["reason"])


@renders(Action.HOLD_LIFTED)
def _hold_lifted(p: dict[str, Any], _n: Names) -> Line:
    return Line("Legal hold lifted", p["reason"])


@renders(Action.PUPIL_LINKED)
def _linked(p: dict[str, Any], n: Names) -> Line:
    return Line(f"Linked {_pupil(n, p['pupil_id'])} as "
                f"{_label(LINK_ROLE_LABELS, p['role']).lower()}")


@renders(Action.PUPIL_UNLINKED)
def _unlinked(p: dict[str, Any], n: Names) -> Line:
    return Line(f"Unlinked {_pupil(n, p['pupil_id'])} "
                f"({_label(LINK_ROLE_LABELS, p['role']).lower()})", p["reason"])


@renders(Action.PUPIL_VIEWED)
def _pupil_viewed(p: dict[str, Any], n: Names) -> Line:
    return Line(f"Viewed the page of {_pupil(n, p['pupil_id'])}")


@renders(Action.PUPIL_SAVED)
def _pupil_saved(p: dict[str, Any], n: Names) -> Line:
    return Line(f"Saved the roster entry of {_pupil(n, p['pupil_id'])}")


@renders(Action.ROSTER_IMPORTED)
def _roster(p: dict[str, Any], _n: Names) -> Line:
    return Line(f"Roster imported: {p['added']} added, {p['updated']} updated, "
                f"{p['unchanged']} unchanged")


@renders(Action.ROSTER_LEFT)
def _roster_left(p: dict[str, Any], _n: Names) -> Line:
    return Line(f"Roster imported: {p['pupils']} pupil{'s' if p['pupils'] != 1 else ''} not "
                "in the file taken off the roll")


def _numbered(words: str, key: str) -> Renderer:
    """A renderer for an event that names one thing by its id: "Tablet 3 revoked"."""

    def render_numbered(p: dict[str, Any], _n: Names) -> Line:
        return Line(words.format(p[key]))

    return render_numbered


for _numbered_action, _words, _key in (
        (Action.ADULT_ADDED, "Trusted adult {} added", "adult_id"),
        (Action.ADULT_SHOWN, "Trusted adult {} shown on the pupil form", "adult_id"),
        (Action.ADULT_HIDDEN, "Trusted adult {} hidden from the pupil form", "adult_id"),
        (Action.DEVICE_ENROLLED, "Tablet {} enrolled", "device_id"),
        (Action.DEVICE_REVOKED, "Tablet {} revoked", "device_id")):
    renders(_numbered_action)(_numbered(_words, _key))


@renders(Action.SCHOOL_CREATED)
def _school(p: dict[str, Any], _n: Names) -> Line:
    return Line(f"School {p['slug']} added")


@renders(Action.SCHOOL_SETTINGS)
def _settings(p: dict[str, Any], _n: Names) -> Line:
    return Line("Settings changed: " + "; ".join(
        f"{c['setting']}: {c['from']} → {c['to']}" for c in p["changes"]))


@renders(Action.USER_CREATED)
def _user_created(p: dict[str, Any], n: Names) -> Line:
    return Line(f"Account {n.users.get(p['user_id'], p['user_id'])} added ({p['role']})")


@renders(Action.USER_2FA_RESET)
def _two_factor_reset(p: dict[str, Any], n: Names) -> Line:
    return Line(f"Two-step sign-in of {n.users.get(p['user_id'], p['user_id'])} reset")


@renders(Action.USER_UNLOCKED)
def _unlocked(p: dict[str, Any], n: Names) -> Line:
    return Line(f"Sign-in of {n.users.get(p['user_id'], p['user_id'])} unlocked")


@renders(Action.USER_PASSWORD_RESET)
def _password(p: dict[str, Any], n: Names) -> Line:
    return Line(f"Password of {n.users.get(p['user_id'], p['user_id'])} renewed", p["why"])


@renders(Action.USER_INVITED)
def _invited(p: dict[str, Any], n: Names) -> Line:
    return Line(f"Sign-in link sent to {n.users.get(p['user_id'], p['user_id'])} "
                f"({p['role']}), valid until {p['expires'][:16].replace('T', ' ')} UTC")


@renders(Action.USER_INVITE_ACCEPTED)
def _invite_accepted(p: dict[str, Any], n: Names) -> Line:
    return Line(f"{n.users.get(p['user_id'], p['user_id'])} set their password from the link")


@renders(Action.USER_ROLE_CHANGED)
def _role_changed(p: dict[str, Any], n: Names) -> Line:
    return Line(f"Role of {n.users.get(p['user_id'], p['user_id'])} changed from "
                f"{p['from']} to {p['to']}")


@renders(Action.USER_DISABLED)
def _disabled(p: dict[str, Any], n: Names) -> Line:
    ended = p["sessions_ended"]
    return Line(f"Account of {n.users.get(p['user_id'], p['user_id'])} switched off "
                f"({ended} session{'s' if ended != 1 else ''} ended)")


@renders(Action.USER_ENABLED)
def _enabled(p: dict[str, Any], n: Names) -> Line:
    return Line(f"Account of {n.users.get(p['user_id'], p['user_id'])} switched on again")


@renders(Action.STAFF_LOGIN)
def _login(p: dict[str, Any], _n: Names) -> Line:
    return Line(f"Signed in ({p['method'].replace('_', ' ')})")


@renders(Action.STAFF_2FA_ENROLLED)
def _enrolled(_p: dict[str, Any], _n: Names) -> Line:
    return Line("Set up two-step sign-in")


@renders(Action.STAFF_LOGOUT)
def _logout(_p: dict[str, Any], _n: Names) -> Line:
    return Line("Signed out")


@renders(Action.STAFF_PASSKEY_ADDED)
def _passkey_added(p: dict[str, Any], _n: Names) -> Line:
    return Line(f"Added a passkey ({p['name']})")


@renders(Action.STAFF_PASSKEY_REMOVED)
def _passkey_removed(p: dict[str, Any], _n: Names) -> Line:
    return Line(f"Removed a passkey ({p['name']})")


@renders(Action.SSO_SAVED)
def _sso_saved(p: dict[str, Any], _n: Names) -> Line:
    changed = ", ".join(p["fields"]) or "nothing"
    state = "on" if p["enabled"] else "off"
    return Line(f"Sign-in with the {p['scope']}'s accounts saved (changed: {changed}); "
                f"it is {state}")


@renders(Action.SSO_REFUSED)
def _sso_refused(p: dict[str, Any], _n: Names) -> Line:
    return Line("A sign-in with the school's accounts was refused",
                SSO_REASONS.get(p["reason"], p["reason"].replace("_", " ")))


SSO_REASONS = {
    "email_unverified": "the provider had not verified the email address",
    "foreign_domain": "the email address is not in the provider's domains",
    "no_account": "no staff account here has that email address",
    "account_off": "the account is switched off",
    "bad_id_token": "the provider's token failed its checks",
    "state_mismatch": "the sign-in was not started in that browser",
    "token_refused": "the provider did not confirm the sign-in",
    "provider_refused": "the provider did not sign the person in",
    "own_step_first": "the account sees safeguarding information and has not set up its "
                      "own second step yet",
    "no_email": "the provider gave no plain email address",
    "provider_unreachable": "the provider could not be reached or read",
    "bad_metadata": "the provider's settings could not be trusted",
}


# parties, support and sanctions, the child's voice, interviews (issue 14)


def _party(names: Names, party_id: int) -> str:
    return names.parties.get(party_id, "someone")


@renders(Action.PARTY_ADDED)
def _party_added(p: dict[str, Any], n: Names) -> Line:
    return Line(f"Added {_party(n, p['party_id'])} "
                f"({_label(PARTY_KIND_LABELS, p['kind']).lower()}) as "
                f"{_label(LINK_ROLE_LABELS, p['role']).lower()}")


@renders(Action.PARTY_REMOVED)
def _party_removed(p: dict[str, Any], n: Names) -> Line:
    return Line(f"Removed {_party(n, p['party_id'])} "
                f"({_label(LINK_ROLE_LABELS, p['role']).lower()})", p["reason"])


@renders(Action.FINDING_RECORDED)
def _finding(p: dict[str, Any], n: Names) -> Line:
    return Line(f"Finding for {_party(n, p['party_id'])}: "
                f"{_label(FINDING_LABELS, p['finding']).lower()}", p["reason"])


@renders(Action.SUPPORT_RECORDED)
def _support(p: dict[str, Any], n: Names) -> Line:
    what = "Sanction" if p["type"] == "sanction" else "Support"
    review = f", review {_day(p['review_on'])}" if p["review_on"] else ""
    return Line(f"{what} for {_party(n, p['party_id'])}: "
                f"{_label(SUPPORT_LABELS, p['code'])} from {_day(p['starts_on'])}{review}")


@renders(Action.SUPPORT_REVIEWED)
def _support_reviewed(p: dict[str, Any], n: Names) -> Line:
    done = "ended" if p["outcome"] == "ended" else "reviewed"
    then = f", next review {_day(p['review_on'])}" if p["review_on"] else ""
    return Line(f"{_label(SUPPORT_LABELS, p['code'])} for {_party(n, p['party_id'])} "
                f"{done}{then}", p["note"])


@renders(Action.VOICE_RECORDED)
def _voice(p: dict[str, Any], n: Names) -> Line:
    return Line(f"What {_party(n, p['party_id'])} wants to happen recorded "
                f"({_day(p['said_on'])})")


@renders(Action.INTERVIEW_RECORDED)
def _interview(p: dict[str, Any], n: Names) -> Line:
    return Line(f"Interview with {_party(n, p['party_id'])} recorded "
                f"({_day(p['held_on'])})")


# checking back with the reporter ("Is it better now?")


@renders(Action.CHECKBACK_SCHEDULED)
def _checkback_scheduled(p: dict[str, Any], _n: Names) -> Line:
    return Line(f"Check back with the reporter set for {_day(p['due_on'])}", p["note"])


@renders(Action.CHECKBACK_CANCELLED)
def _checkback_cancelled(p: dict[str, Any], _n: Names) -> Line:
    return Line(f"Check back of {_day(p['due_on'])} cancelled", p["reason"])


@renders(Action.CHECKBACK_ANSWERED)
def _checkback_answered(p: dict[str, Any], _n: Names) -> Line:
    feeling = _label(FEELING_LABELS, p["answer"]).lower()
    more = " and wrote more (see Check back with the reporter)" if p["wrote_more"] else ""
    return Line(f"Asked “Is it better now?”, the reporter answered: {feeling}{more}")


# --- parents and carers kept informed (issue 14) -------------------------------------------


def _how(code: str) -> str:
    from .models import TOLD_HOW_LABELS

    return _label(TOLD_HOW_LABELS, code).lower()


@renders(Action.CONTACTS_IMPORTED)
def _contacts_imported(p: dict[str, Any], _n: Names) -> Line:
    return Line(f"Parent and carer contacts imported with the roster: {p['contacts']} "
                f"contact(s) for {p['pupils']} pupil(s)")


@renders(Action.PARENTS_TOLD)
def _parents_told(p: dict[str, Any], n: Names) -> Line:
    again = " (a correction of an earlier record)" if p["corrects"] else ""
    return Line(f"Parents of {_pupil(n, p['pupil_id'])} told{again}: {p['told']}, by "
                f"{_how(p['how'])}, on {_day(p['told_on'])}, by {p['by']}", p["what"])


@renders(Action.MEETING_INVITED)
def _meeting_invited(p: dict[str, Any], n: Names) -> Line:
    when = f" for {_day(p['meeting_on'])}" if p["meeting_on"] else ""
    return Line(f"Parents of {_pupil(n, p['pupil_id'])} invited to a meeting{when} "
                f"(invited {_label(HOW_PHRASES, p['invited_how'])} on "
                f"{_day(p['invited_on'])})")


@renders(Action.MEETING_COMPLETED)
def _meeting_completed(p: dict[str, Any], n: Names) -> Line:
    from .models import MEETING_STATE_LABELS

    state = _label(MEETING_STATE_LABELS, p["to"]).lower()
    again = " (corrected)" if p["from"] != "invited" else ""
    detail = "\n".join(part for part in (
        f"Attended: {p['attended']}" if p["attended"] else "",
        f"Agreed: {p['agreed']}" if p["agreed"] else "",
        f"Next steps: {p['next_steps']}" if p["next_steps"] else "") if part)
    return Line(f"Meeting with the parents of {_pupil(n, p['pupil_id'])} on "
                f"{_day(p['meeting_on'])}: {state}{again}", detail or None)

# The people around the case (issue 14: notices).
def _contact_role(code: str) -> str:
    return _label(CONTACT_ROLE_LABELS, code)


@renders(Action.CONTACT_ADDED)
def _contact_added(p: dict[str, Any], _n: Names) -> Line:
    return Line(f"Added a school contact ({_contact_role(p['role'])}, #{p['contact_id']})")


@renders(Action.CONTACT_EDITED)
def _contact_edited(p: dict[str, Any], _n: Names) -> Line:
    return Line(f"Changed school contact #{p['contact_id']}: {', '.join(p['fields'])}")


@renders(Action.CONTACT_DEACTIVATED)
def _contact_off(p: dict[str, Any], _n: Names) -> Line:
    return Line(f"Stopped using school contact #{p['contact_id']}")


@renders(Action.CONTACT_REACTIVATED)
def _contact_on(p: dict[str, Any], _n: Names) -> Line:
    return Line(f"Started using school contact #{p['contact_id']} again")


@renders(Action.ADULT_ACCOUNT_LINKED)
def _adult_account(p: dict[str, Any], n: Names) -> Line:
    if p["to"] is None:
        return Line(f"Trusted adult #{p['adult_id']} no longer has a staff account linked")
    return Line(f"Linked trusted adult #{p['adult_id']} to the account of "
                f"{n.users.get(p['to'], 'a member of staff')}")


@renders(Action.NOTICE_SENT)
def _notice_sent(p: dict[str, Any], _n: Names) -> Line:
    return Line(f"Notice emailed to the school's {_contact_role(p['role']).lower()} "
                f"(contact #{p['contact_id']}), as the step asks: "
                f"{checklists.step_words(p['step'])}")


@renders(Action.ADULT_TOLD)
def _adult_told(p: dict[str, Any], n: Names) -> Line:
    return Line(f"Told {n.users.get(p['user_id'], 'the adult')} by email that a pupil asked "
                "to talk to them")


@renders(Action.AUTHOR_TOLD)
def _author_told(p: dict[str, Any], n: Names) -> Line:
    what = "has closed it" if p["stage"] == "closed" else "has acted on it"
    return Line(f"Told {n.users.get(p['user_id'], 'the member of staff')}, who recorded the "
                f"concern, that the safeguarding team {what} (no details)")
# Search (portal.search)
@renders(Action.SEARCH_RUN)
def _search_run(p: dict[str, Any], _n: Names) -> Line:
    found = p["results"]
    count = "more than 100 reports" if found > 100 else \
        f"{found} {'report' if found == 1 else 'reports'}"
    return Line(f"Searched the school's reports ({count} found)", p["query"])


# Figures (portal.figures)
@renders(Action.FIGURES_EXPORTED)
def _figures_exported(p: dict[str, Any], _n: Names) -> Line:
    what = "the governors' report (PDF)" if p["format"] == "pdf" else "the figures (CSV)"
    where = f" of {p['school']}" if p["school"] else ""
    return Line(f"Downloaded {what}{where} for {p['from']} to {p['to']}")


@renders(Action.FIGURES_VIEWED)
def _figures_viewed(p: dict[str, Any], _n: Names) -> Line:
    where = f" of {p['school']}" if p["school"] else ""
    return Line(f"Looked at the figures{where} for {p['from']} to {p['to']}")


@renders(Action.CASE_EXPORTED)
def _case_exported(p: dict[str, Any], _n: Names) -> Line:
    return Line(f"Case exported as a {str(p.get('format', 'pdf')).upper()}")


@renders(Action.EVIDENCE_BUNDLED)
def _bundled(p: dict[str, Any], _n: Names) -> Line:
    from .casework.bundle import BUNDLE_REASONS

    files = len(p["evidence_ids"])
    return Line(f"Evidence bundle made for {BUNDLE_REASONS.get(p['reason'], p['reason'])} "
                f"({files} file{'s' if files != 1 else ''})",
                f"Reference: {p['reference']}" if p["reference"] else None)


@renders(Action.EVIDENCE_MARKED_NUDE)
def _marked_nude(p: dict[str, Any], _n: Names) -> Line:
    return Line("A kept file was marked as a suspected nude or semi-nude image of a child: "
                "it is not shown, not bundled, and leaves only with a written reason",
                p["note"] or None)


@renders(Action.EVIDENCE_ADDED)
def _evidence_added(p: dict[str, Any], _n: Names) -> Line:
    files = len(p["evidence_ids"])
    return Line(f"{files} evidence file{'s' if files != 1 else ''} added from the case page")


@renders(Action.EVIDENCE_LINK_ADDED)
def _link_added(p: dict[str, Any], _n: Names) -> Line:
    return Line(f"A web address kept as evidence (seen {_day(p['seen_on'])})")


@renders(Action.EVIDENCE_RELEASED)
def _released(p: dict[str, Any], _n: Names) -> Line:
    return Line("A file marked as a suspected nude image was downloaded for a referral",
                p["reason"])


@renders(Action.AUDIT_VIEWED, Action.AUDIT_EXPORTED)
def _audit_read(p: dict[str, Any], _n: Names) -> Line:
    asked = ", ".join(f"{k} {v}" for k, v in p.items() if v is not None) or "everything"
    return Line(f"Audit trail read ({asked})")


@renders(Action.PUPIL_TRANSFERRED)
def _transferred(p: dict[str, Any], n: Names) -> Line:
    return Line(f"Record of {_pupil(n, p['pupil_id'])} sent to {p['to_school']}")


@renders(Action.TRANSFER_RECEIVED)
def _transfer_received(p: dict[str, Any], _n: Names) -> Line:
    return Line(f"A child's record received from {p['from_school']}")


@renders(Action.TRANSFER_VIEWED)
def _transfer_viewed(p: dict[str, Any], _n: Names) -> Line:
    return Line(f"Transferred record {p['transfer_id']} read")


@renders(Action.CASE_SHARED)
def _shared(p: dict[str, Any], _n: Names) -> Line:
    extra = [what for what, on in (("the reporter's words", p["with_words"]),
                                   ("the people involved", p["with_people"])) if on]
    return Line(f"Case shared with {p['to_school']} to work on together (the summary"
                f"{', ' + ' and '.join(extra) if extra else ' only'})")


@renders(Action.SHARE_RECEIVED)
def _share_received(p: dict[str, Any], _n: Names) -> Line:
    return Line(f"A case shared by {p['from_school']} to work on together (shared case "
                f"{p['share_id']})")


@renders(Action.SHARE_VIEWED)
def _share_viewed(p: dict[str, Any], _n: Names) -> Line:
    return Line(f"Shared case {p['share_id']} from {p['from_school']} read")


@renders(Action.SHARE_ACTION_ADDED)
def _share_action(p: dict[str, Any], _n: Names) -> Line:
    return Line(f"An action recorded on shared case {p['share_id']} (done "
                f"{_day(p['done_on'])})")


@renders(Action.SHARE_ENDED)
def _share_ended(p: dict[str, Any], _n: Names) -> Line:
    return Line(f"Shared case {p['share_id']} ended by {p['ended_by_school']}", p["reason"])


@renders(Action.PUPIL_EXPORTED)
def _pupil_exported(p: dict[str, Any], n: Names) -> Line:
    return Line(f"Record of {_pupil(n, p['pupil_id'])} exported as a "
                f"{str(p.get('format', 'pdf')).upper()}")


def render(event: Event, names: Names) -> Line:
    """The words of one event."""
    return RENDERERS[Action(event.action)](event.payload, names)


def party_ids(events: list[Event]) -> set[int]:
    """The parties a list of events names (to read their names in one query)."""
    return {e.payload["party_id"] for e in events if "party_id" in e.payload}


def pupil_ids(events: list[Event]) -> set[int]:
    """The pupils a list of events names (to read their names in one query)."""
    return {e.payload["pupil_id"] for e in events if "pupil_id" in e.payload}


__all__ = ["RENDERERS", "Line", "Names", "party_ids", "pupil_ids", "render", "renders"]


# Events a reporter causes; any other event without an actor was the portal's own doing
# (a policy rule attaching a checklist, the retention purge).
_BY_REPORTER = frozenset({Action.REPORT_RECEIVED, Action.MESSAGE_FROM_REPORTER,
                          Action.CHECKBACK_ANSWERED})


def who(event: Event) -> str:
    """Who the chronology says did it: the member of staff, the reporter, or the portal."""
    if event.actor is not None:
        return event.actor.name
    return "Reporter" if event.action in _BY_REPORTER else "Tell Us (automatic)"
