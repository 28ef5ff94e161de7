"""The case page's "Parents and carers" section and the child's parents on their page:
what parents were told, meetings with them, and the prompt to invite the parents of a
recurring child (portal.casework.parents holds the rules).

Short views: validate the form, call one rule, commit, flash, redirect (so Back and
Reload never record twice); a refusal is the case page again, 400, with what was typed
in that child's panel."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from flask import abort, request
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session

from ..auth.access import READERS, allow, staff_user
from ..casework import parents
from ..db import get_session
from ..forms import required
from ..models import ParentsTold, Pupil, ReportPupil
from . import views
from .case_parts import CaseRows, case_part
from .forms_parents import InviteForm, MeetingForm, ParentsToldForm
from .views import _act, _case, bp


def _number(text: str | None) -> int | None:
    text = (text or "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) < 12 else None


def _party_name(party: ReportPupil) -> str:
    return party.pupil.name if party.pupil else "this child"


@bp.route("/cases/<int:report_id>/parties/<int:party_id>/parents-told", methods=["POST"])
@allow(READERS)
def record_parents_told(report_id: int, party_id: int) -> ResponseReturnValue:
    """"Keep them informed at all stages": the parents of one child were told."""
    report = _case(report_id)
    db = get_session()
    try:
        party = parents.party_of(db, report, party_id)
    except parents.PartyNotFound:
        abort(404)
    form = ParentsToldForm()
    form.party_id.data = str(party.id)
    by = form.by_user.data or "me"

    def change(db: Session) -> None:
        parents.record_parents_told(
            db, report, party.id, actor=staff_user(), told_on=required(form.told_on.data),
            how=form.how.data or "", what=form.what.data or "",
            contact_id=_number(form.contact.data), told_name=form.told_name.data or "",
            by_user_id=None if by == "me" else (_number(by) or -1),
            by_name=form.by_name.data or "", corrects_id=_number(form.corrects.data))

    return _act(report, form, "parents_told", change,
                 f"Recorded: the parents of {_party_name(party)} were told.",
                 f"parents-{party.id}")


@bp.route("/cases/<int:report_id>/parents/meetings", methods=["POST"])
@allow(READERS)
def invite_parents(report_id: int) -> ResponseReturnValue:
    """Parents invited to a meeting, for one or several children of the case."""
    report = _case(report_id)
    db = get_session()
    form = InviteForm()
    form.party_ids.choices = {str(p.id): _party_name(p)
                              for p in parents.roster_parties(db, report)}
    ids = [n for n in (_number(v) for v in form.party_ids.data or []) if n is not None]
    anchor = f"parents-{_number(form.from_party.data) or (ids[0] if ids else '')}"

    def change(db: Session) -> None:
        parents.invite_to_meeting(db, report, ids, actor=staff_user(),
                                  invited_on=required(form.invited_on.data),
                                  invited_how=form.invited_how.data or "",
                                  meeting_on=form.meeting_on.data)

    return _act(report, form, "parents_invite", change,
                 "Invitation to a meeting recorded.", anchor)


@bp.route("/cases/<int:report_id>/parents/meetings/<int:meeting_id>", methods=["POST"])
@allow(READERS)
def complete_meeting(report_id: int, meeting_id: int) -> ResponseReturnValue:
    """A meeting with parents held, or not attended (again: a correction)."""
    report = _case(report_id)
    db = get_session()
    try:
        meeting = parents.meeting_of(db, report, meeting_id)
    except parents.ParentsError:
        abort(404)
    form = MeetingForm()
    form.meeting_id.data = str(meeting.id)
    anchor = f"parents-{_number(form.from_party.data) or meeting.party_ids[0]}"

    def change(db: Session) -> None:
        parents.complete_meeting(db, report, meeting.id, actor=staff_user(),
                                 outcome=form.outcome.data or "",
                                 meeting_on=required(form.meeting_on.data),
                                 attended=form.attended.data or "",
                                 agreed=form.agreed.data or "",
                                 next_steps=form.next_steps.data or "")

    return _act(report, form, "parents_meeting", change, "Meeting recorded.", anchor)


views.register_case_form("triage.record_parents_told", "parents_told", ParentsToldForm)
views.register_case_form("triage.invite_parents", "parents_invite", InviteForm)
views.register_case_form("triage.complete_meeting", "parents_meeting", MeetingForm)


@case_part
def parents_part(case: CaseRows, forms: Mapping[str, Any]) -> dict[str, Any]:
    """Each roster child's parents and carers: their parents' record and the forms, each
    a fresh one unless it is the one just refused (by its child and meeting)."""
    session, report = case.session, case.report
    rows = parents.for_case(session, report, case.parties)
    me = staff_user()
    today = date.today()
    told_refused = forms.get("parents_told")
    invite_refused = forms.get("parents_invite")
    meeting_refused = forms.get("parents_meeting")
    # ?invite=<party>: the recurring prompt's link opens that child's invitation form;
    # ?correct=<record>: a record's "Correct this" opens the form filled with it.
    invite_for = _number(request.args.get("invite"))
    correct = _number(request.args.get("correct"))
    choices = {str(r.party.id): _party_name(r.party) for r in rows}
    told_forms: dict[int, ParentsToldForm] = {}
    invite_forms: dict[int, InviteForm] = {}
    meeting_forms: dict[tuple[int, int], MeetingForm] = {}
    opened: set[str] = set()
    for row in rows:
        pid = row.party.id
        if told_refused is not None and _number(told_refused.party_id.data) == pid:
            told_forms[pid] = told_refused
            opened.add(f"told-{pid}")
        else:
            earlier = next((t for t in row.told if t.id == correct), None)
            told_forms[pid] = _correction(earlier, pid) if earlier else ParentsToldForm(
                formdata=None, party_id=str(pid), told_on=today, by_user="me")
            if earlier:
                opened.add(f"told-{pid}")
        if invite_refused is not None and _number(invite_refused.from_party.data) == pid:
            invite = invite_refused
            opened.add(f"invite-{pid}")
        else:
            invite = InviteForm(formdata=None, from_party=str(pid), party_ids=[str(pid)],
                                invited_on=today)
            if invite_for == pid:
                opened.add(f"invite-{pid}")
        invite.party_ids.choices = choices
        invite_forms[pid] = invite
        for meeting in row.meetings:
            key = (pid, meeting.id)
            if (meeting_refused is not None and _number(meeting_refused.meeting_id.data)
                    == meeting.id and _number(meeting_refused.from_party.data) == pid):
                meeting_forms[key] = meeting_refused
                opened.add(f"meeting-{pid}-{meeting.id}")
            else:
                meeting_forms[key] = MeetingForm(
                    formdata=None, from_party=str(pid), meeting_id=str(meeting.id),
                    outcome=None if meeting.state == "invited" else meeting.state,
                    meeting_on=meeting.meeting_on or today,
                    attended=meeting.attended, agreed=meeting.agreed,
                    next_steps=meeting.next_steps)
    return {
        "parents_rows": rows,
        "parents_staff_options": [("me", f"Me ({me.name})")] + [
            (str(u.id), u.name) for u in parents.staff_of(session, report.school_id, case.staff)
            if u.id != me.id],
        "parents_told_forms": told_forms, "parents_invite_forms": invite_forms,
        "parents_meeting_forms": meeting_forms, "parents_opened": opened,
        "recurring_prompt": parents.RECURRING_PROMPT, "parents_names": choices,
        "parents_by_party": {r.party.id: r for r in rows},
    }


def _correction(earlier: ParentsTold, party_id: int) -> ParentsToldForm:
    """The form filled with an earlier record, to be sent again corrected."""
    return ParentsToldForm(formdata=None, party_id=str(party_id), corrects=str(earlier.id),
                           told_on=earlier.told_on, told_name=earlier.told, how=earlier.how,
                           by_user=str(earlier.by_user_id) if earlier.by_user_id else "me",
                           by_name=earlier.by_name, what=earlier.what)


@bp.app_template_global("parents_of_pupil")
def parents_of_pupil(pupil: Pupil) -> parents.PupilParents:
    """The child's parents across every case, for their chronology page
    (triage/_pupil_parents.html): read when the page includes it, in fixed queries."""
    return parents.for_pupil(get_session(), pupil)
