"""The people involved in a case: someone not on the roster, the finding about an alleged
perpetrator, support and sanctions, the child's voice and interviews, per party; and what
was done for each child on their own chronology. Short views: parse, call one rule
(portal.casework.parties), commit, redirect."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import abort, request
from flask.blueprints import BlueprintSetupState
from flask.typing import ResponseReturnValue

from ..auth.access import READERS, allow, staff_user
from ..casework import parties
from ..db import get_session
from ..forms import required
from ..models import (
    FINDING_LABELS,
    PARTY_KIND_LABELS,
    SANCTIONS,
    SUPPORT_FOR_ROLE,
    SUPPORT_LABELS,
    Finding,
    LinkRole,
    PartyKind,
    PartySupport,
    Pupil,
    Report,
    ReportPupil,
    SupportState,
    SupportType,
    utcnow,
)
from . import case_parts
from .forms_parties import (
    AddPartyForm,
    FindingForm,
    InterviewForm,
    ReviewSupportForm,
    SupportForm,
    VoiceForm,
)
from .views import _act, _case, bp, register_case_form

PER_PARTY = {"party_finding": FindingForm, "party_support": SupportForm,
             "party_voice": VoiceForm, "party_interview": InterviewForm}


def _party(report: Report, party_id: int) -> ReportPupil:
    try:
        return parties.party_of(get_session(), report, party_id, actor=staff_user())
    except parties.PartyNotFound:
        abort(404)


def _suffixed(form: Any, suffix: str) -> Any:
    """The same form shown once per party: each field's id made unique on the page (the
    names stay, so a refused form reads back what was typed)."""
    for field in form:
        if field.type != "CSRFTokenField":
            field.id = f"{field.id}-{suffix}"
    return form


def _support_choices(role: LinkRole) -> dict[str, str]:
    """What the policy lists for this role; sanctions after support, for a perpetrator."""
    offered = {"": "Choose…", **SUPPORT_FOR_ROLE[role.value]}
    if role == LinkRole.ALLEGED_PERPETRATOR:
        offered.update({code: f"Sanction: {words}" for code, words in SANCTIONS.items()})
    return offered


def _refused_ids() -> tuple[int | None, int | None]:
    """The party (and support record) whose form was refused on this request, if any."""
    args = request.view_args or {}
    party_id, support_id = args.get("party_id"), args.get("support_id")
    return (party_id if isinstance(party_id, int) else None,
            support_id if isinstance(support_id, int) else None)


@case_parts.case_part
def _people(case: case_parts.CaseRows, forms: Mapping[str, Any]) -> dict[str, Any]:
    """Each party with everything recorded about them, and a form of each kind for each
    (the refused one with what was typed)."""
    people = case.parties
    refused_party, refused_support = _refused_ids()
    today = utcnow().date()
    per_party: dict[int, dict[str, Any]] = {}
    reviews: dict[int, Any] = {}
    for party in people:
        made: dict[str, Any] = {}
        for name, form_class in PER_PARTY.items():
            form = forms.get(name) if party.id == refused_party else None
            if form is None:
                defaults = {"starts_on": today, "said_on": today, "held_on": today}
                form = form_class(formdata=None, **defaults)
            made[name.removeprefix("party_")] = _suffixed(form, str(party.id))
        made["support"].support_code.choices = _support_choices(party.role)
        per_party[party.id] = made
        for record in party.support:
            if record.state == SupportState.ACTIVE:
                review = forms.get("party_review") if record.id == refused_support else None
                reviews[record.id] = _suffixed(review or ReviewSupportForm(formdata=None),
                                               f"s{record.id}")
    return {
        "people": people, "party_forms": per_party, "review_forms": reviews,
        "add_party_form": forms.get("party_add") or AddPartyForm(formdata=None),
        "refused_party": refused_party if any(n in forms for n in PER_PARTY) else None,
        "refused_support": refused_support if "party_review" in forms else None,
    }


@bp.route("/cases/<int:report_id>/parties", methods=["POST"])
@allow(READERS)
def add_party(report_id: int) -> ResponseReturnValue:
    """Someone not on the roster: another school's pupil, an adult, staff, not known."""
    report = _case(report_id)
    form = AddPartyForm()
    return _act(report, form, "party_add", lambda db: parties.add_party(
        db, report, actor=staff_user(), kind=PartyKind(form.party_kind.data),
        role=LinkRole(form.party_role.data), description=form.description.data or ""),
        "Added to the people involved.", "pupils")


@bp.route("/cases/<int:report_id>/parties/<int:party_id>/finding", methods=["POST"])
@allow(READERS)
def record_finding(report_id: int, party_id: int) -> ResponseReturnValue:
    report = _case(report_id)
    party = _party(report, party_id)
    form = FindingForm()
    return _act(report, form, "party_finding", lambda db: parties.record_finding(
        db, report, party, actor=staff_user(), finding=Finding(form.finding.data),
        reason=form.finding_reason.data or ""), "Finding recorded.", f"party-{party.id}")


@bp.route("/cases/<int:report_id>/parties/<int:party_id>/support", methods=["POST"])
@allow(READERS)
def add_support(report_id: int, party_id: int) -> ResponseReturnValue:
    report = _case(report_id)
    party = _party(report, party_id)
    form = SupportForm()
    code = form.support_code.data or ""
    kind = SupportType.SANCTION if code in SANCTIONS else SupportType.SUPPORT
    done = "Sanction recorded." if kind == SupportType.SANCTION else "Support recorded."
    return _act(report, form, "party_support", lambda db: parties.add_support(
        db, report, party, actor=staff_user(), type_=kind, code=code,
        given_by=form.given_by.data or "", starts_on=required(form.starts_on.data),
        review_on=form.review_on.data, note=form.support_note.data or "",
        ask_reporter=bool(form.ask_reporter.data)),
        done, f"party-{party.id}")


@bp.route("/cases/<int:report_id>/parties/<int:party_id>/support/<int:support_id>/review",
          methods=["POST"])
@allow(READERS)
def review_support(report_id: int, party_id: int, support_id: int) -> ResponseReturnValue:
    report = _case(report_id)
    party = _party(report, party_id)
    record = get_session().get(PartySupport, support_id)
    if record is None or record.party_id != party.id:
        abort(404)
    form = ReviewSupportForm()
    return _act(report, form, "party_review", lambda db: parties.review_support(
        db, report, record, actor=staff_user(), outcome=form.outcome.data or "",
        note=form.review_note.data or "", review_on=form.next_review_on.data),
        "Review recorded.", f"party-{party.id}")


@bp.route("/cases/<int:report_id>/parties/<int:party_id>/voice", methods=["POST"])
@allow(READERS)
def record_voice(report_id: int, party_id: int) -> ResponseReturnValue:
    report = _case(report_id)
    party = _party(report, party_id)
    form = VoiceForm()
    return _act(report, form, "party_voice", lambda db: parties.record_voice(
        db, report, party, actor=staff_user(), said_on=required(form.said_on.data),
        wants=form.wants.data or ""), "Recorded what they want to happen.",
        f"party-{party.id}")


@bp.route("/cases/<int:report_id>/parties/<int:party_id>/interviews", methods=["POST"])
@allow(READERS)
def record_interview(report_id: int, party_id: int) -> ResponseReturnValue:
    report = _case(report_id)
    party = _party(report, party_id)
    form = InterviewForm()
    return _act(report, form, "party_interview", lambda db: parties.record_interview(
        db, report, party, actor=staff_user(), held_on=required(form.held_on.data),
        interviewer=form.interviewer.data or "", present=form.present.data or "",
        account=form.account.data or ""), "Interview recorded.", f"party-{party.id}")


for _endpoint, _name, _form in (
        ("triage.add_party", "party_add", AddPartyForm),
        ("triage.record_finding", "party_finding", FindingForm),
        ("triage.add_support", "party_support", SupportForm),
        ("triage.review_support", "party_review", ReviewSupportForm),
        ("triage.record_voice", "party_voice", VoiceForm),
        ("triage.record_interview", "party_interview", InterviewForm)):
    register_case_form(_endpoint, _name, _form)


@bp.app_template_global("child_records")
def child_records(pupil: Pupil) -> dict[int, list[ReportPupil]]:
    """For the child's chronology (/staff/pupils/<id>): report id -> this child's party
    rows, with support, sanctions, finding, voice and interviews."""
    return parties.for_pupil(get_session(), pupil)


# The words beside the codes, for the case page and the child's chronology.
@bp.record_once
def _labels(state: BlueprintSetupState) -> None:
    state.app.jinja_env.globals.update(
        PARTY_KIND_LABELS={str(k): v for k, v in PARTY_KIND_LABELS.items()},
        FINDING_LABELS={str(k): v for k, v in FINDING_LABELS.items()},
        SUPPORT_LABELS=dict(SUPPORT_LABELS))
