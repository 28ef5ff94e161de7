"""Every action the audit trail records, and the payload each one carries. No Flask here.

An event is a named ``Action`` with a structured payload (JSON, encrypted at rest, never
cut): ``kinds.changed`` keeps the whole lists it changed from and to, ``pupil.linked`` the
pupil's id and role. ``check_payload`` refuses a payload with a key its action does not
have, or without one it needs, or with a value of the wrong type, so a chronology can be
read back the same way by the case page, an export or a migration. The words each event
shows are in ``portal.chronology`` (one renderer per action).

The values are the dotted strings stored before (``"status.changed"``): tests, the
documentation and other tools read them.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from types import MappingProxyType, NoneType
from typing import Any


class Action(enum.StrEnum):
    """Everything that can happen to a record, a school or an account."""

    # a report's life
    REPORT_RECEIVED = "report.received"
    REPORT_PURGED = "report.purged"
    CASE_VIEWED = "case.viewed"
    CASE_ACKNOWLEDGED = "case.acknowledged"
    CASE_ASSIGNED = "case.assigned"
    STATUS_CHANGED = "status.changed"
    CATEGORY_CHANGED = "category.changed"
    NOTE_ADDED = "note.added"
    KINDS_CHANGED = "kinds.changed"
    CHECKLIST_ADDED = "checklist.added"
    STEP_UPDATED = "step.updated"
    ACTION_RECORDED = "action.recorded"
    MESSAGE_TO_REPORTER = "message.to_reporter"
    MESSAGE_FROM_REPORTER = "message.from_reporter"
    EVIDENCE_DOWNLOADED = "evidence.downloaded"
    HOLD_SET = "hold.set"
    HOLD_LIFTED = "hold.lifted"
    PUPIL_LINKED = "pupil.linked"
    PUPIL_UNLINKED = "pupil.unlinked"
    # the roster and the school
    PUPIL_VIEWED = "pupil.viewed"
    PUPIL_SAVED = "pupil.saved"
    ROSTER_IMPORTED = "roster.imported"
    # pupils not in a whole-school export, taken off the roll by the import (issue 18)
    ROSTER_LEFT = "roster.left"
    ADULT_ADDED = "adult.added"
    ADULT_SHOWN = "adult.shown"
    ADULT_HIDDEN = "adult.hidden"
    SCHOOL_CREATED = "school.created"
    SCHOOL_SETTINGS = "school.settings"
    DEVICE_ENROLLED = "device.enrolled"
    DEVICE_REVOKED = "device.revoked"
    # accounts
    USER_CREATED = "user.created"
    USER_2FA_RESET = "user.2fa_reset"
    USER_UNLOCKED = "user.unlocked"
    USER_PASSWORD_RESET = "user.password_reset"  # noqa: S105 - an action name
    # staff accounts in the browser (issue 18, portal.admin.staff)
    USER_INVITED = "user.invited"
    USER_INVITE_ACCEPTED = "user.invite_accepted"
    USER_ROLE_CHANGED = "user.role_changed"
    USER_DISABLED = "user.disabled"
    USER_ENABLED = "user.enabled"
    STAFF_LOGIN = "staff.login"
    STAFF_2FA_ENROLLED = "staff.2fa_enrolled"
    STAFF_LOGOUT = "staff.logout"
    # single sign-on (issue 18, portal.auth.sso): a school's or trust's provider saved by its
    # administrator (never the secret), and a sign-in through it refused (the reason only)
    SSO_SAVED = "sso.saved"
    SSO_REFUSED = "sso.refused"
    # passkeys (issue 18, portal.auth.passkeys): added or removed by their owner
    STAFF_PASSKEY_ADDED = "staff.passkey_added"
    STAFF_PASSKEY_REMOVED = "staff.passkey_removed"
    # parties, per-child support and sanctions, the child's voice, interviews (issue 14)
    PARTY_ADDED = "party.added"
    PARTY_REMOVED = "party.removed"
    FINDING_RECORDED = "finding.recorded"
    SUPPORT_RECORDED = "support.recorded"
    SUPPORT_REVIEWED = "support.reviewed"
    VOICE_RECORDED = "voice.recorded"
    INTERVIEW_RECORDED = "interview.recorded"
    # checking back with the reporter ("Is it better now?", issue 14)
    CHECKBACK_SCHEDULED = "checkback.scheduled"
    CHECKBACK_CANCELLED = "checkback.cancelled"
    CHECKBACK_ANSWERED = "checkback.answered"
    # parents and carers kept informed at all stages (issue 14, portal.casework.parents)
    CONTACTS_IMPORTED = "contacts.imported"
    PARENTS_TOLD = "parents.told"
    MEETING_INVITED = "meeting.invited"
    MEETING_COMPLETED = "meeting.completed"
    # the people around the case (issue 14: notices)
    CONTACT_ADDED = "contact.added"
    CONTACT_EDITED = "contact.edited"
    CONTACT_DEACTIVATED = "contact.deactivated"
    CONTACT_REACTIVATED = "contact.reactivated"
    ADULT_ACCOUNT_LINKED = "adult.account_linked"
    NOTICE_SENT = "notice.sent"
    ADULT_TOLD = "adult.told"
    AUTHOR_TOLD = "author.told"
    # Search across the school's reports (portal.search)
    SEARCH_RUN = "search.run"
    # The figures (portal.figures) leaving the portal as a CSV or a governors' PDF
    FIGURES_EXPORTED = "figures.exported"
    # ... and looked at on the page (the trial's finding 10: who read which period's figures)
    FIGURES_VIEWED = "figures.viewed"
    # Records leaving the portal (issue 16): a case's or a child's record as a PDF
    CASE_EXPORTED = "case.exported"
    EVIDENCE_BUNDLED = "evidence.bundled"
    # a kept file marked as a suspected nude image of a child, and such a file let out
    # for a referral (portal.casework.nude_images)
    EVIDENCE_MARKED_NUDE = "evidence.marked_nude"
    # evidence the DSL added from the case page: files, a web address (casework.staff_evidence)
    EVIDENCE_ADDED = "evidence.added"
    EVIDENCE_LINK_ADDED = "evidence.link_added"
    EVIDENCE_RELEASED = "evidence.released"
    PUPIL_EXPORTED = "pupil.exported"
    # the audit trail read by the DSL team (portal.audit_view), on the page and as a CSV
    AUDIT_VIEWED = "audit.viewed"
    # a child's record sent to another school of the trust, received there, and read
    # (portal.casework.transfer)
    PUPIL_TRANSFERRED = "pupil.transferred"
    TRANSFER_RECEIVED = "transfer.received"
    TRANSFER_VIEWED = "transfer.viewed"
    AUDIT_EXPORTED = "audit.exported"
    # a case worked together with another school of the trust (portal.casework.sharing):
    # at the owning school on the case; at the partner school, on the share (no case there)
    CASE_SHARED = "case.shared"
    SHARE_RECEIVED = "share.received"
    SHARE_VIEWED = "share.viewed"
    SHARE_ACTION_ADDED = "share.action_added"
    SHARE_ENDED = "share.ended"


class PayloadError(ValueError):
    """A payload that does not fit its action's schema (unknown, missing or mistyped key)."""


# A JSON value's Python types, as a key's schema names them.
Text = (str,)
OptionalText = (str, NoneType)
Number = (int,)
OptionalNumber = (int, NoneType)
Texts = (list,)  # a list of strings: checked item by item
Numbers = (list,)  # a list of ids, under a key ending "_ids": checked item by item
Changes = (list,)  # school.settings: [{"setting", "from", "to"}]
Flag = (bool,)

_EMPTY: Mapping[str, tuple[type, ...]] = MappingProxyType({})


def _schema(**keys: tuple[type, ...]) -> Mapping[str, tuple[type, ...]]:
    return MappingProxyType(keys)


# Each action's keys and the types their values may have. Every key is required; a key
# that may be absent in the facts is stored as None (an optional key would make "missing"
# and "not asked" look the same).
SCHEMAS: Mapping[Action, Mapping[str, tuple[type, ...]]] = MappingProxyType({
    # "source": pupil / parent / staff; None on rows stored before the source was recorded
    Action.REPORT_RECEIVED: _schema(source=OptionalText),
    # the stub the retention rule leaves: which rule, which report, of which day
    Action.REPORT_PURGED: _schema(retention_class=Text, report_id=Number,
                                  reported_on=Text),
    Action.CASE_VIEWED: _EMPTY,
    Action.CASE_ACKNOWLEDGED: _EMPTY,
    # user ids; None is "nobody"
    Action.CASE_ASSIGNED: _schema(**{"from": OptionalNumber, "to": OptionalNumber}),
    Action.STATUS_CHANGED: _schema(**{"from": Text, "to": Text, "reason": Text}),
    Action.CATEGORY_CHANGED: _schema(**{"from": Text, "to": Text, "reason": Text}),
    Action.NOTE_ADDED: _schema(note=Text),
    # the whole lists of kind codes: changing kinds replaces the rows, so this is the record.
    # "complete" is False only for rows migrated from before 0013 whose list had been cut
    # to 80 characters and could not be recovered from the events around them.
    Action.KINDS_CHANGED: _schema(**{"from": Texts, "to": Texts, "reason": Text,
                                     "complete": Flag}),
    Action.CHECKLIST_ADDED: _schema(checklist=Text),
    # the step's checklist and key (portal.checklists), its state before and after
    Action.STEP_UPDATED: _schema(**{"checklist": Text, "step": Text, "from": Text,
                                    "to": Text, "note": OptionalText}),
    Action.ACTION_RECORDED: _schema(action=Text, note=OptionalText),
    Action.MESSAGE_TO_REPORTER: _EMPTY,
    Action.MESSAGE_FROM_REPORTER: _EMPTY,
    Action.EVIDENCE_DOWNLOADED: _schema(evidence_id=Number),
    Action.HOLD_SET: _schema(reason=Text),
    Action.HOLD_LIFTED: _schema(reason=Text),
    Action.PUPIL_LINKED: _schema(pupil_id=Number, role=Text),
    Action.PUPIL_UNLINKED: _schema(pupil_id=Number, role=Text, reason=Text),
    Action.PUPIL_VIEWED: _schema(pupil_id=Number),
    Action.PUPIL_SAVED: _schema(pupil_id=Number),
    Action.ROSTER_IMPORTED: _schema(added=Number, updated=Number, unchanged=Number),
    Action.ROSTER_LEFT: _schema(pupils=Number),
    Action.ADULT_ADDED: _schema(adult_id=Number),
    Action.ADULT_SHOWN: _schema(adult_id=Number),
    Action.ADULT_HIDDEN: _schema(adult_id=Number),
    Action.SCHOOL_CREATED: _schema(slug=Text),
    Action.SCHOOL_SETTINGS: _schema(changes=Changes),
    Action.DEVICE_ENROLLED: _schema(device_id=Number),
    Action.DEVICE_REVOKED: _schema(device_id=Number),
    Action.USER_CREATED: _schema(user_id=Number, role=Text),
    Action.USER_2FA_RESET: _schema(user_id=Number),
    Action.USER_UNLOCKED: _schema(user_id=Number),
    Action.USER_PASSWORD_RESET: _schema(user_id=Number, why=Text),
    # the account, its role (a link sent again: the same role), when the link expires (ISO)
    Action.USER_INVITED: _schema(user_id=Number, role=Text, expires=Text),
    Action.USER_INVITE_ACCEPTED: _schema(user_id=Number),
    Action.USER_ROLE_CHANGED: _schema(**{"user_id": Number, "from": Text, "to": Text}),
    # how many of their sessions ended at once
    Action.USER_DISABLED: _schema(user_id=Number, sessions_ended=Number),
    Action.USER_ENABLED: _schema(user_id=Number),
    # "totp", "recovery_code" or "totp_enrolment"
    Action.STAFF_LOGIN: _schema(method=Text),
    Action.STAFF_2FA_ENROLLED: _EMPTY,
    Action.STAFF_LOGOUT: _EMPTY,
    Action.SSO_SAVED: _schema(provider_id=Number, scope=Text, fields=Texts, enabled=Flag),
    Action.SSO_REFUSED: _schema(provider_id=Number, reason=Text),
    # the passkey's row and the name its owner gave it ("Work laptop")
    Action.STAFF_PASSKEY_ADDED: _schema(passkey_id=Number, name=Text),
    Action.STAFF_PASSKEY_REMOVED: _schema(passkey_id=Number, name=Text),
    # parties (issue 14). A party is a row of report_pupils, named by its id; "kind" is a
    # portal.models.PartyKind code. Dates are ISO dates; names and accounts stay in the
    # records themselves (encrypted), never in the trail.
    Action.PARTY_ADDED: _schema(party_id=Number, kind=Text, role=Text),
    Action.PARTY_REMOVED: _schema(party_id=Number, kind=Text, role=Text, reason=Text),
    # "finding": responsible / not_upheld
    Action.FINDING_RECORDED: _schema(party_id=Number, finding=Text, reason=Text),
    # "type": support / sanction; "code": portal.models.SUPPORT_LABELS
    Action.SUPPORT_RECORDED: _schema(party_id=Number, support_id=Number, type=Text,
                                     code=Text, starts_on=Text, review_on=OptionalText),
    # "outcome": reviewed (carries on, perhaps to a new review date) / ended
    Action.SUPPORT_REVIEWED: _schema(party_id=Number, support_id=Number, code=Text,
                                     outcome=Text, note=Text, review_on=OptionalText),
    Action.VOICE_RECORDED: _schema(party_id=Number, voice_id=Number, said_on=Text),
    Action.INTERVIEW_RECORDED: _schema(party_id=Number, interview_id=Number, held_on=Text),
    # checking back with the reporter: the check's id and day (ISO), the DSL's note or
    # reason; the answer's code (portal.models.FEELINGS) and whether the reporter wrote
    # more (their words stay in check_backs, encrypted; never in the audit row, P11)
    Action.CHECKBACK_SCHEDULED: _schema(check_back_id=Number, due_on=Text, note=OptionalText),
    Action.CHECKBACK_CANCELLED: _schema(check_back_id=Number, due_on=Text,
                                        reason=OptionalText),
    Action.CHECKBACK_ANSWERED: _schema(check_back_id=Number, answer=Text, wrote_more=Flag),
    # parents and carers (issue 14). A roster import that carried contact columns: how
    # many pupils had their contacts replaced, and how many contacts there are now.
    Action.CONTACTS_IMPORTED: _schema(pupils=Number, contacts=Number),
    # one record of parents told, whole: the party and its pupil, the date (ISO), who was
    # told in words, the code of how, who told them (in words; the account when it was
    # one), what they were told, and the record it corrects (None for a first record)
    Action.PARENTS_TOLD: _schema(record_id=Number, party_id=Number, pupil_id=Number,
                                 told_on=Text, told=Text, how=Text, by=Text,
                                 by_user_id=OptionalNumber, what=Text,
                                 corrects=OptionalNumber),
    # one event per party a meeting is for; dates ISO, meeting_on None when not fixed yet
    Action.MEETING_INVITED: _schema(meeting_id=Number, party_id=Number, pupil_id=Number,
                                    invited_on=Text, invited_how=Text,
                                    meeting_on=OptionalText),
    # the meeting held or not attended (or corrected): its state before and now, and
    # everything recorded about it
    Action.MEETING_COMPLETED: _schema(**{"meeting_id": Number, "party_id": Number,
                                         "pupil_id": Number, "from": Text, "to": Text,
                                         "meeting_on": Text, "attended": Text,
                                         "agreed": Text, "next_steps": Text}),
    # the people around the case (issue 14: notices). Ids, codes and the names of the
    # fields changed; a contact's name and address stay on its row.
    Action.CONTACT_ADDED: _schema(contact_id=Number, role=Text),
    Action.CONTACT_EDITED: _schema(contact_id=Number, fields=Texts),
    Action.CONTACT_DEACTIVATED: _schema(contact_id=Number),
    Action.CONTACT_REACTIVATED: _schema(contact_id=Number),
    # the trusted adult's staff account; None is "no account"
    Action.ADULT_ACCOUNT_LINKED: _schema(**{"adult_id": Number, "from": OptionalNumber,
                                            "to": OptionalNumber}),
    # a checklist step's notice to one school contact (the step's code, the contact's role)
    Action.NOTICE_SENT: _schema(contact_id=Number, step=Text, role=Text),
    Action.ADULT_TOLD: _schema(adult_id=Number, user_id=Number),
    # "acted" (first action) or "closed"; the member of staff who recorded the concern
    Action.AUTHOR_TOLD: _schema(stage=Text, user_id=Number),
    # Search (portal.search): what was searched for (payloads are encrypted) and how many
    # reports matched, counted up to 101 ("more than 100")
    Action.SEARCH_RUN: _schema(query=Text, results=Number),
    # format: csv / pdf; the period's first and last days (ISO); school: a slug, or None
    # for a trust's schools together
    Action.FIGURES_EXPORTED: _schema(**{"format": Text, "from": Text, "to": Text,
                                        "school": OptionalText}),
    Action.FIGURES_VIEWED: _schema(**{"from": Text, "to": Text, "school": OptionalText}),
    # a record leaving as a file: its format ("pdf"); for a child's record, the child
    Action.CASE_EXPORTED: _schema(format=Text),
    # an evidence bundle: who it is for (portal.casework.bundle.BUNDLE_REASONS), the
    # reference the DSL gave (a crime or referral number), and the files put in it
    Action.EVIDENCE_BUNDLED: _schema(reason=Text, reference=Text, evidence_ids=Numbers),
    # the DSL's note (why it was marked; never a description of the image)
    Action.EVIDENCE_MARKED_NUDE: _schema(evidence_id=Number, note=Text),
    # the files added (their hashes are on their rows); a link's day seen (ISO); the address
    # itself stays on its row, encrypted
    Action.EVIDENCE_ADDED: _schema(evidence_ids=Numbers),
    Action.EVIDENCE_LINK_ADDED: _schema(link_id=Number, seen_on=Text),
    # the written reason naming the referral it was let out for
    Action.EVIDENCE_RELEASED: _schema(evidence_id=Number, reason=Text),
    Action.PUPIL_EXPORTED: _schema(pupil_id=Number, format=Text),
    # the sending school's child, the transfer, the receiving school (its slug); there,
    # the sending school and the receiving school's child matched by UPN (None if none)
    Action.PUPIL_TRANSFERRED: _schema(pupil_id=Number, transfer_id=Number, to_school=Text),
    Action.TRANSFER_RECEIVED: _schema(transfer_id=Number, from_school=Text,
                                      pupil_id=OptionalNumber),
    Action.TRANSFER_VIEWED: _schema(transfer_id=Number),
    # the share, and the other school (its slug): the partner for the owning school's
    # events, the owning school for the partner's; what was shared beyond the summary
    Action.CASE_SHARED: _schema(share_id=Number, to_school=Text, with_words=Flag,
                                with_people=Flag),
    Action.SHARE_RECEIVED: _schema(share_id=Number, from_school=Text),
    Action.SHARE_VIEWED: _schema(share_id=Number, from_school=Text),
    # the action's words stay on its row (encrypted); the day it was done (ISO)
    Action.SHARE_ACTION_ADDED: _schema(share_id=Number, action_id=Number, done_on=Text),
    # the reason the school that ended it gave, and which school that was (a slug)
    Action.SHARE_ENDED: _schema(share_id=Number, ended_by_school=Text, reason=Text),
    # the filters asked (ids, the kind, the days in ISO; None when not asked)
    Action.AUDIT_VIEWED: _schema(**{"case": OptionalNumber, "pupil": OptionalNumber,
                                    "who": OptionalNumber, "kind": OptionalText,
                                    "from": OptionalText, "to": OptionalText}),
    Action.AUDIT_EXPORTED: _schema(**{"case": OptionalNumber, "pupil": OptionalNumber,
                                      "who": OptionalNumber, "kind": OptionalText,
                                      "from": OptionalText, "to": OptionalText}),
})

_SCALAR = (str, int, float, bool, NoneType)


def _fits(value: Any, types: tuple[type, ...], key: str) -> bool:
    # bool is an int in Python; a count or an id is never True/False.
    if isinstance(value, bool) and bool not in types:
        return False
    if not isinstance(value, types):
        return False
    if key == "changes":
        return isinstance(value, list) and all(
            isinstance(item, dict) and set(item) == {"setting", "from", "to"}
            and isinstance(item["setting"], str)
            and isinstance(item["from"], _SCALAR) and isinstance(item["to"], _SCALAR)
            for item in value)
    if isinstance(value, list) and key.endswith("_ids"):
        return all(isinstance(item, int) and not isinstance(item, bool) for item in value)
    if isinstance(value, list):
        return all(isinstance(item, str) for item in value)
    return True


def check_payload(action: str, payload: Mapping[str, Any] | None) -> dict[str, Any]:
    """``payload`` if it is exactly what ``action`` records; PayloadError otherwise."""
    try:
        schema = SCHEMAS[Action(action)]
    except ValueError:
        raise PayloadError(f"{action!r} is not an action the audit trail knows") from None
    given = dict(payload or {})
    unknown = sorted(set(given) - set(schema))
    missing = sorted(set(schema) - set(given))
    if unknown or missing:
        raise PayloadError(f"{action}: unknown keys {unknown}, missing keys {missing}")
    for key, types in schema.items():
        if not _fits(given[key], types, key):
            raise PayloadError(f"{action}: {key}={given[key]!r} is not "
                               f"{' or '.join(t.__name__ for t in types)}")
    return given


__all__ = ["SCHEMAS", "Action", "PayloadError", "check_payload"]
