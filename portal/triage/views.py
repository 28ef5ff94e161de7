"""The triage queue, the case page and the pupil page. Short views: parse, call a rule,
commit, redirect."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select

from .. import checklists, chronology, evidence, linking, overdue, priority, retention
from ..auth.access import READERS, allow, landing_for, staff_user
from ..casework import concern_author
from ..casework.bundle import BUNDLE_REASONS
from ..db import get_session
from ..errors import RERENDER
from ..events import Action
from ..forms import as_id, required
from ..jobs import send_soon
from ..models import (
    ActionKind,
    ChecklistItem,
    Event,
    Evidence,
    ItemState,
    LinkRole,
    Pupil,
    Report,
    ReportPupil,
    Role,
    School,
    User,
    utcnow,
)
from ..priority import URGENT
from ..vocabulary import (
    ALL_KINDS,
    CATEGORY_LABELS,
    SOURCE_LABELS,
    STATUS_LABELS,
    YEAR_GROUPS,
    Category,
    Status,
    year_groups,
)
from . import case_parts, times
from . import operations as ops
from .forms import (
    STEP_STATES,
    AcknowledgeForm,
    ActionForm,
    AssignForm,
    ChecklistForm,
    ConcernForm,
    DecideCloseForm,
    DecisionForm,
    HoldForm,
    KindsForm,
    LinkPupilForm,
    MessageForm,
    NoteForm,
    OverridableStatusForm,
    StepForm,
    StepsForm,
    UnlinkForm,
    seen,
)

bp = Blueprint("triage", __name__, url_prefix="/staff")
bp.add_app_template_filter(times.uk, "uk")
bp.add_app_template_filter(times.uk_date, "uk_date")

STATUS_FILTERS = {"open": "Open", **{s.value: STATUS_LABELS[s] for s in Status}, "all": "All"}
CASE_ROLES = (READERS, Role.STAFF)
# What the member of staff who recorded a concern reads about it (that it is being dealt
# with, in plain words, never what was decided or why) is the state their email says:
# portal.casework.concern_author.state_words.
CHANGES: tuple[type[ops.InvalidTransition] | type[ops.ReasonRequired] |
               type[linking.LinkError], ...] = (
    ops.InvalidTransition, ops.ReasonRequired, linking.LinkError)


def _word_dirs() -> tuple[Path, ...]:
    return priority.word_dirs(current_app.instance_path)


def _school() -> School:
    school = get_session().get(School, staff_user().school_id)
    if school is None:
        abort(404)
    return school


ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}\Z")


def _day(value: str, name: str, problems: list[str]) -> date | None:
    """An ISO date from the query string, or None (with a plain message) when it is not one."""
    if not value:
        return None
    try:
        if not ISO_DAY.match(value):
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        problems.append(f"“{name}” must be a date like 2026-09-01; that filter was left out.")
        return None


def _filters(problems: list[str] | None = None) -> ops.QueueFilters:
    """The queue's filters from the query string. Names other tools use (status, kind,
    source, page, mine) keep their meaning; issue 14 adds decision, year, from, to, overdue
    and not_better. A value that is not one of the choices is left out; a bad date is said
    in ``problems``."""
    args = request.args
    problems = [] if problems is None else problems
    page = args.get("page", "1")
    status = args.get("status", "open")
    kind = args.get("kind", "")
    source = args.get("source", "")
    decision = args.get("decision", "")
    year = args.get("year", "")
    arrived_from = _day(args.get("from", ""), "From", problems)
    arrived_to = _day(args.get("to", ""), "To", problems)
    if arrived_from and arrived_to and arrived_from > arrived_to:
        problems.append("“From” is after “To”; those dates were left out.")
        arrived_from = arrived_to = None
    return ops.QueueFilters(
        status=status if status in STATUS_FILTERS else "open",
        kind=kind if kind in {k.value for k in ALL_KINDS} else "",
        source=source if source in SOURCE_LABELS else "",
        page=int(page) if page.isascii() and page.isdigit() and len(page) < 7 else 1,
        assigned_to=staff_user().id if args.get("mine") == "1" else None,
        decision=decision if decision in {c.value for c in Category} else "",
        year=year if year in YEAR_GROUPS else "",
        arrived_from=arrived_from, arrived_to=arrived_to,
        overdue=args.get("overdue") == "1", not_better=args.get("not_better") == "1",
    )


def _due(report: Report, school: School) -> Any:
    return overdue.due_by(report.created_at, urgent=report.urgency >= URGENT,
                          urgent_days=school.urgent_due_days,
                          normal_days=school.normal_due_days,
                          day_ends_hour=school.day_ends_hour)


@bp.route("/")
@allow(READERS, Role.STAFF, Role.ADMIN, Role.TRUST_LEAD, Role.HEAD)
def queue() -> ResponseReturnValue:
    user = staff_user()
    if user.role in (Role.ADMIN, Role.TRUST_LEAD, Role.HEAD):
        # The staff home: roles without a queue are sent on to their own first page.
        return redirect(landing_for(user))
    problems: list[str] = []
    filters = _filters(problems)
    db = get_session()
    school = _school()
    page = ops.queue(db, user, filters)
    if not user.reads_reports:
        # Staff list the concerns they recorded, each with a plain status: not the DSL's
        # ranking, decision, assignee or the pupils linked to it.
        return render_template("triage/my_concerns.html", page=page, filters=filters,
                               status_filters=STATUS_FILTERS,
                               concern_state=concern_author.state_words)
    flags = linking.flags_for(db, [r.id for r in page.reports])
    now = utcnow()
    due = {r.id: _due(r, school) for r in page.reports}
    viewed = ops.viewed_not_acknowledged(
        db, [r.id for r in page.reports if r.acknowledged_at is None])
    return render_template(
        "triage/queue.html", page=page, filters=filters, status_filters=STATUS_FILTERS,
        kinds=ALL_KINDS, sources=SOURCE_LABELS, flags=flags, now=now, due=due,
        problems=problems, decisions=CATEGORY_LABELS, years=year_groups(school.phase),
        paging=_paging(filters),
        mine=request.args.get("mine") == "1", viewed=viewed,
        hints={r.id: ops.hint(r) for r in page.reports}, signal_tags_for=priority.signal_tags,
        reasons_in_words=priority.reasons_in_words,
    ), 400 if problems else 200


def _paging(filters: ops.QueueFilters) -> dict[str, Any]:
    """The chosen filters as query-string values, for the page links (None: left out)."""
    return {"status": filters.status, "kind": filters.kind or None,
            "source": filters.source or None,
            "mine": 1 if filters.assigned_to is not None else None,
            "decision": filters.decision or None, "year": filters.year or None,
            "from": filters.arrived_from.isoformat() if filters.arrived_from else None,
            "to": filters.arrived_to.isoformat() if filters.arrived_to else None,
            "overdue": 1 if filters.overdue else None,
            "not_better": 1 if filters.not_better else None}


def _case(report_id: int) -> Report:
    report = ops.get_report(get_session(), staff_user(), report_id)
    if report is None:
        abort(404)
    return report


def _render_case(report: Report, code: int = 200, events: list[Event] | None = None,
                 **forms: Any) -> ResponseReturnValue:
    db = get_session()
    school = _school()
    case = case_parts.CaseRows(db, report)
    staff = case.staff  # first: the chronology's and check-backs' people are then at hand
    status_form = forms.get("status") or OverridableStatusForm(formdata=None)
    status_form.status.choices = {
        s.value: STATUS_LABELS[s] for s in Status if s in ops.ALLOWED[report.status]
    }
    assign_form = forms.get("assign") or AssignForm(
        formdata=None, assignee=str(report.assigned_to_id or ""))
    assign_form.assignee.choices = {"": "Nobody", **{str(u.id): u.name for u in
                                                     ops.dsl_team_of(staff)}}
    kinds_form = forms.get("kinds") or KindsForm(formdata=None, kinds=report.kind_values)
    query = request.args.get("q", "").strip()[:80]
    found = linking.search_pupils(db, report.school_id, query, limit=20) if query else []
    events = ops.chronology(db, report) if events is None else events
    names = _names(case, events)
    flags = linking.flags_of(case.parties)
    return render_template(
        "triage/case.html", report=report, school=school,
        **case_parts.context(case, forms),
        decision_form=forms.get("decision") or DecideCloseForm(
            formdata=None, category=report.category.value),
        can_close=Status.CLOSED in ops.ALLOWED[report.status],
        status_form=status_form, note_form=forms.get("note") or NoteForm(formdata=None),
        link_form=forms.get("link") or LinkPupilForm(formdata=None),
        unlink_form=forms.get("unlink") or UnlinkForm(formdata=None),
        kinds_form=kinds_form, assign_form=assign_form,
        checklist_form=forms.get("checklist") or ChecklistForm(formdata=None),
        steps_form=forms.get("steps") or StepsForm(formdata=None),
        step_states=STEP_STATES,
        step_seen={i.id: seen(i.state.value, i.note or "") for i in report.checklist_items},
        message_form=forms.get("message") or MessageForm(formdata=None),
        acknowledge_form=forms.get("acknowledge") or AcknowledgeForm(formdata=None),
        unlink_id=forms.get("unlink_id"),
        # The request cap (MAX_CONTENT_LENGTH): case.js refuses a form over it before sending.
        max_body=current_app.config["MAX_CONTENT_LENGTH"],
        # Nothing pre-selected: a checked "hold" would read as if the record were held.
        hold_form=forms.get("hold") or HoldForm(formdata=None),
        action_form=forms.get("action") or ActionForm(formdata=None, happened_on=utcnow().date()),
        suggestions=linking.suggest(db, report, case.parties) if staff_user().reads_reports else [],
        found=found, query=query, flags=flags,
        open_required=checklists.open_required(report),
        # A case from before checklists started at arrival (migration 0014) has none until
        # its next recorded change: show the steps the policy will ask for, read-only
        # (a GET writes nothing but the view).
        preview_steps=[] if report.checklist_items else [
            (checklists.CHECKLISTS[name].title,
             [(step.text, step.required) for step in checklists.CHECKLISTS[name].steps])
            for name in checklists.checklists_for(report)],
        checklist_titles=checklists.titles(),
        step_words=checklists.step_words, step_current=checklists.is_current,
        reason_words=priority.reason_words, listed_phrase=priority.listed_phrase,
        recurring_pupils={p.id for p, _role, rec in flags.pupils.get(report.id, []) if rec},
        who=chronology.who,
        events=[(e, chronology.render(e, names)) for e in events
                if e.action != Action.CASE_VIEWED],
        views=[e for e in events if e.action == Action.CASE_VIEWED],
        due=_due(report, school), now=utcnow(), bundle_reasons=BUNDLE_REASONS,
        **_nude_forms(forms, report),
        staff_evidence_form=forms.get("staff_evidence") or _staff_evidence_form(),
    ), code


def _staff_evidence_form() -> FlaskForm:
    from .views_evidence import StaffEvidenceForm

    return StaffEvidenceForm(formdata=None, link_seen_on=utcnow().date())


def _nude_forms(forms: dict[str, Any], report: Report) -> dict[str, Any]:
    """The "mark as a suspected nude image" form: a blank one, and the refused one with the
    file it was for (portal.triage.views_nude)."""
    from .views_nude import MarkNudeForm

    refused = forms.get("nude_mark")
    args = request.view_args or {}
    return {"nude_blank": MarkNudeForm(formdata=None), "nude_form": refused,
            "nude_for": args.get("evidence_id") if refused is not None else None}


def _names(case: case_parts.CaseRows, events: list[Event]) -> chronology.Names:
    """Who the chronology names: the pupils its events mention, the school's staff, and
    the case's parties (issue 14: a roster pupil's name, or what is known of someone not
    on it). A pupil the events name who was never a party is the only one looked up."""
    known = {p.pupil.id: p.pupil for p in case.every_party if p.pupil is not None}
    missing = chronology.pupil_ids(events) - known.keys()
    if missing:
        known.update((p.id, p) for p in case.session.scalars(
            select(Pupil).where(Pupil.id.in_(missing))))
    party_ids = chronology.party_ids(events)
    return chronology.Names(
        pupils={i: p.name for i, p in known.items()},
        users={u.id: u.name for u in case.staff},
        parties={p.id: p.label for p in case.every_party if p.id in party_ids})


@bp.route("/cases/<int:report_id>")
@allow(*CASE_ROLES)
def case(report_id: int) -> ResponseReturnValue:
    report = _case(report_id)
    db = get_session()
    events = ops.chronology(db, report)
    view = ops.record_view(db, report, actor=staff_user(), events=events)
    db.commit()  # the view event is the only thing a GET writes
    if not staff_user().reads_reports:
        # A member of staff reaches only a concern they wrote (ops.get_report): they see
        # their own words and a plain status, nothing the DSL added (notes, decisions and
        # reasons, linked pupils, actions, who has viewed it).
        return render_template("triage/concern_status.html", report=report,
                               status=concern_author.state_words(report))
    return _render_case(report, events=[*events, view] if view else events)


def _act(report: Report, form: FlaskForm, name: str, change: Any, done: str,
         anchor: str | None = None) -> ResponseReturnValue:
    """Validate ``form``, apply ``change`` (one operation, which also acknowledges the
    report if this is the first action on it), commit and go back to the case, to the part
    of the page the DSL was on (``anchor``)."""
    if form.validate_on_submit():
        db = get_session()
        try:
            change(db)
        except CHANGES as error:
            db.rollback()
            form.form_errors.append(str(error))
        else:
            db.commit()
            flash(done)
            return redirect(url_for("triage.case", report_id=report.id, _anchor=anchor))
    return _render_case(report, 400, None, **{name: form})


@bp.route("/cases/<int:report_id>/decision", methods=["POST"])
@allow(READERS)
def decide(report_id: int) -> ResponseReturnValue:
    report = _case(report_id)
    form = DecisionForm()
    return _act(report, form, "decision", lambda db: ops.record_decision(
        db, report, actor=staff_user(), category=Category(form.category.data),
        reason=form.reason.data), "Decision recorded.", "decision-card")


@bp.route("/cases/<int:report_id>/decision-and-close", methods=["POST"])
@allow(READERS)
def decide_and_close(report_id: int) -> ResponseReturnValue:
    """The decision card's second button: record the decision, then close the case with
    the same reason. Both rules run in one transaction; if either refuses, neither is kept
    and the card comes back with what was typed."""
    report = _case(report_id)
    form = DecideCloseForm()

    def change(db: Any) -> None:
        ops.decide_and_close(db, report, actor=staff_user(),
                             category=Category(form.category.data), reason=form.reason.data,
                             override=form.close_override.data or "",
                             base_url=current_app.config["PORTAL_BASE_URL"])

    response = _act(report, form, "decision", change, "Decision recorded. Case closed.",
                    "decision-card")
    send_soon(current_app._get_current_object())  # type: ignore[attr-defined]
    return response


@bp.route("/cases/<int:report_id>/acknowledge", methods=["POST"])
@allow(READERS)
def acknowledge(report_id: int) -> ResponseReturnValue:
    """The deliberate step: "I have this report" (looking at it is not acknowledging it)."""
    report = _case(report_id)
    form = AcknowledgeForm()
    if form.validate_on_submit():
        db = get_session()
        if ops.acknowledge(db, report, actor=staff_user()):
            db.commit()
            flash("Acknowledged. The reporter's status now says an adult is dealing with it.")
        else:
            flash(_already_acknowledged(db, report))  # a page older than a colleague's press
        return redirect(url_for("triage.case", report_id=report.id))
    return _render_case(report, 400, acknowledge=form)


def _already_acknowledged(db: Any, report: Report) -> str:
    """What a press of Acknowledge that changed nothing says: who acknowledged it, when."""
    done = [e for e in ops.chronology(db, report) if e.action == Action.CASE_ACKNOWLEDGED]
    if not done:
        return "Nothing new to acknowledge."
    last = done[-1]
    who = last.actor.name if last.actor else "a colleague"
    return f"Already acknowledged by {who} at {times.uk(last.created_at)}. Nothing new to " \
        "acknowledge."


@bp.route("/cases/<int:report_id>/status", methods=["POST"])
@allow(READERS)
def change_status(report_id: int) -> ResponseReturnValue:
    report = _case(report_id)
    form = OverridableStatusForm()

    def change(db: Any) -> None:
        ops.change_status(db, report, actor=staff_user(), status=Status(form.status.data),
                          reason=form.status_reason.data, override=form.override.data or "",
                          base_url=current_app.config["PORTAL_BASE_URL"])

    response = _act(report, form, "status", change, "Status changed.", "status-card")
    send_soon(current_app._get_current_object())  # type: ignore[attr-defined]
    return response


@bp.route("/cases/<int:report_id>/hold", methods=["POST"])
@allow(READERS)
def legal_hold(report_id: int) -> ResponseReturnValue:
    report = _case(report_id)
    form = HoldForm()

    def change(db: Any) -> None:
        try:
            retention.set_hold(db, report, actor=staff_user(), hold=form.hold.data == "yes",
                               reason=form.hold_reason.data or "")
        except ValueError as error:
            raise ops.ReasonRequired(str(error)) from error

    return _act(report, form, "hold", change, "Legal hold saved.", "retention-card")


@bp.route("/cases/<int:report_id>/messages", methods=["POST"])
@allow(READERS)
def message_reporter(report_id: int) -> ResponseReturnValue:
    report = _case(report_id)
    form = MessageForm()

    def change(db: Any) -> None:
        ops.message_reporter(db, report, actor=staff_user(), body=form.message.data or "",
                             base_url=current_app.config["PORTAL_BASE_URL"])

    response = _act(report, form, "message", change,
                    "Message sent. The reporter reads it with their follow-up code.", "messages")
    send_soon(current_app._get_current_object())  # type: ignore[attr-defined]
    return response


@bp.route("/cases/<int:report_id>/evidence/<int:evidence_id>")
@allow(READERS)
def download_evidence(report_id: int, evidence_id: int) -> ResponseReturnValue:
    """The kept file, as an attachment, never shown inline; every download is audited."""
    report = _case(report_id)
    db = get_session()
    item = db.get(Evidence, evidence_id)
    if item is None or item.report_id != report.id:
        abort(404)
    if item.suspected_nude:  # UKCIS: only with a written reason (portal.casework.nude_images)
        return redirect(url_for("triage.release_nude", report_id=report.id,
                                evidence_id=item.id))
    path = current_app.config["PORTAL_EVIDENCE_DIR"] / str(report.school_id) / item.stored_name
    if not path.is_file():
        abort(404)
    ops.record_download(db, report, item, actor=staff_user())
    db.commit()
    number = [e.id for e in report.evidence].index(item.id) + 1
    response = send_file(io.BytesIO(evidence.read(path)), mimetype=item.content_type,
                         as_attachment=True,
                         download_name=f"report-{report.id}-evidence-{number}."
                                       f"{evidence.EXTENSIONS[item.content_type]}",
                         max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@bp.route("/cases/<int:report_id>/notes", methods=["POST"])
@allow(READERS)
def add_note(report_id: int) -> ResponseReturnValue:
    report = _case(report_id)
    form = NoteForm()
    return _act(report, form, "note", lambda db: ops.add_note(
        db, report, actor=staff_user(), note=form.note.data or ""), "Note added.", "note-card")


@bp.route("/cases/<int:report_id>/kinds", methods=["POST"])
@allow(READERS)
def set_kinds(report_id: int) -> ResponseReturnValue:
    report = _case(report_id)
    form = KindsForm()

    return _act(report, form, "kinds", lambda db: ops.set_kinds(
        db, report, actor=staff_user(), kinds=list(form.kinds.data or []),
        reason=form.kinds_reason.data, school=_school(), word_dirs=_word_dirs()),
        "Kinds recorded.", "kinds-card")


@bp.route("/cases/<int:report_id>/checklists", methods=["POST"])
@allow(READERS)
def add_checklist(report_id: int) -> ResponseReturnValue:
    report = _case(report_id)
    form = ChecklistForm()
    return _act(report, form, "checklist", lambda db: ops.add_checklist(
        db, report, actor=staff_user(), name=form.checklist.data), "Checklist added.", "checklists")


@bp.route("/cases/<int:report_id>/steps/<int:item_id>", methods=["POST"])
@allow(READERS)
def update_step(report_id: int, item_id: int) -> ResponseReturnValue:
    report = _case(report_id)
    db = get_session()
    item = db.get(ChecklistItem, item_id)
    if item is None or item.report_id != report.id:
        abort(404)
    form = StepForm()
    if form.validate_on_submit():
        try:
            ops.update_step(db, item, actor=staff_user(), state=ItemState(form.state.data),
                            note=form.step_note.data or "")
        except CHANGES as error:
            db.rollback()
            return _render_case(report, 400, steps=_step_refused(
                item, form.state.data, form.step_note.data, str(error)))
        db.commit()
        flash("Step updated.")
        return redirect(url_for("triage.case", report_id=report.id, _anchor="checklists"))
    return _render_case(report, 400, steps=_step_refused(
        item, form.state.data, form.step_note.data, "Choose done, not needed or still to do."))


def _step_refused(item: ChecklistItem, state: str | None, note: str | None,
                  message: str) -> StepsForm:
    """The checklist form showing one step's refusal, with what was typed for it."""
    form = StepsForm(formdata=None)
    form.typed[item.id] = (state or item.state.value, note or "")
    form.step_errors[item.id] = message
    return form


@bp.route("/cases/<int:report_id>/steps", methods=["POST"])
@allow(READERS)
def update_steps(report_id: int) -> ResponseReturnValue:
    """The checklist as one form: every step the DSL changed is saved in one go, or none
    is (each through ``ops.update_step``, in checklist order, in one transaction)."""
    report = _case(report_id)
    form = StepsForm()
    if not form.validate_on_submit():
        return _render_case(report, 400, steps=form)
    changes = form.changes(report.checklist_items, request.form)
    if not changes and not form.step_errors:
        form.form_errors.append("Nothing to save: choose done, not needed or still to do "
                                "for a step first.")
        return _render_case(report, 400, steps=form)
    db = get_session()
    # Every step is put to the rule even when another was refused already (a note too long,
    # a colleague's newer answer), so one save reports every problem; none is kept unless
    # all pass.
    for change in changes:
        try:
            ops.update_step(db, change.item, actor=staff_user(),
                            state=ItemState(change.state), note=change.note)
        except CHANGES as error:
            form.step_errors[change.item.id] = str(error)  # every refusal, not the first
    if not form.step_errors:
        ops.acknowledge(db, report, actor=staff_user())
        db.commit()
        flash("Step updated." if len(changes) == 1 else f"{len(changes)} steps updated.")
        return redirect(url_for("triage.case", report_id=report.id, _anchor="checklists"))
    db.rollback()
    return _render_case(_case(report_id), 400, steps=form)


@bp.route("/cases/<int:report_id>/actions", methods=["POST"])
@allow(READERS)
def record_action(report_id: int) -> ResponseReturnValue:
    report = _case(report_id)
    form = ActionForm()
    return _act(report, form, "action", lambda db: ops.record_action(
        db, report, actor=staff_user(), kind=ActionKind(form.action_kind.data),
        happened_on=required(form.happened_on.data), who=form.who.data or "",
        how=form.how.data or "", agency=form.agency.data or "",
        note=form.action_note.data or ""), "Recorded.", "actions")


@bp.route("/cases/<int:report_id>/assign", methods=["POST"])
@allow(READERS)
def assign(report_id: int) -> ResponseReturnValue:
    report = _case(report_id)
    db = get_session()
    form = AssignForm()
    form.assignee.choices = {"": "Nobody", **{str(u.id): u.name for u in
                                              ops.dsl_team(db, report.school_id)}}

    def change(db: Any) -> None:
        assignee = db.get(User, int(form.assignee.data)) if form.assignee.data else None
        ops.assign(db, report, actor=staff_user(), assignee=assignee)

    return _act(report, form, "assign", change, "Assignment saved.", "assign-card")


@bp.route("/cases/<int:report_id>/pupils", methods=["POST"])
@allow(READERS)
def link_pupil(report_id: int) -> ResponseReturnValue:
    report = _case(report_id)
    db = get_session()
    form = LinkPupilForm()
    pupil_id = form.pupil_id.data or ""
    chosen = as_id(pupil_id)
    pupil = db.get(Pupil, chosen) if chosen is not None else None
    if form.validate_on_submit() and (pupil is None or pupil.school_id != report.school_id):
        abort(404)
    return _act(report, form, "link", lambda db: linking.link(
        db, report, required(pupil), LinkRole(form.role.data), actor=staff_user(), school=_school(),
        word_dirs=_word_dirs()), "Pupil linked.", "pupils")


@bp.route("/cases/<int:report_id>/pupils/<int:link_id>/unlink", methods=["POST"])
@allow(READERS)
def unlink_pupil(report_id: int, link_id: int) -> ResponseReturnValue:
    report = _case(report_id)
    db = get_session()
    row = db.get(ReportPupil, link_id)
    if row is None or row.report_id != report.id or row.unlinked_at is not None:
        abort(404)
    form = UnlinkForm()
    return _act(report, form, "unlink", lambda db: linking.unlink(
        db, row, actor=staff_user(), school=_school(), reason=form.unlink_reason.data or "",
        word_dirs=_word_dirs()),
        "Pupil unlinked." if row.pupil_id is not None else "Removed from the people involved.",
        "pupils")


@bp.route("/pupils")
@allow(READERS)
def pupils() -> ResponseReturnValue:
    """Which children are in more than one report this term."""
    start = linking.term_start(utcnow().date())
    since = datetime.combine(start, time(), tzinfo=UTC)
    school = _school()
    rows = linking.pupils_in_several_reports(get_session(), school.id, since)
    return render_template("triage/pupils.html", rows=rows, start=start, school=school)


def _pupil(pupil_id: int) -> Pupil:
    """A pupil of the signed-in member of staff's school, or 404 (another school's ids)."""
    child = get_session().get(Pupil, pupil_id)
    if child is None or child.school_id != staff_user().school_id:
        abort(404)
    return child


@bp.route("/pupils/<int:pupil_id>")
@allow(READERS)
def pupil(pupil_id: int) -> ResponseReturnValue:
    db = get_session()
    user = staff_user()
    child = _pupil(pupil_id)
    ops.record_pupil_view(db, child, actor=user)
    db.commit()
    return pupil_page(child)


def pupil_page(child: Pupil, code: int = 200, **extra: Any) -> ResponseReturnValue:
    """The child's page (also shown again, with its message, by a refused transfer)."""
    from .views_transfer import transfer_form

    db = get_session()
    entries = linking.chronology(db, child)
    received, sent = transfers_of(db, child)
    form = extra.pop("transfer_form", None)
    return render_template("triage/pupil.html", pupil=child, entries=entries,
                           recurring=child.recurring, school=_school(),
                           transfer_form=transfer_form(child, form),
                           transfers_received=received, transfers_sent=sent,
                           transfer_problem=extra.pop("transfer_problem", ""), **extra), code


def transfers_of(db: Any, child: Pupil) -> tuple[list[Any], list[Any]]:
    """Records of this child received from another school, and sent from here."""
    from ..models import PupilTransfer

    rows = list(db.scalars(select(PupilTransfer).where(
        (PupilTransfer.to_pupil_id == child.id) | (PupilTransfer.pupil_id == child.id))
        .order_by(PupilTransfer.sent_at)))
    return ([t for t in rows if t.to_pupil_id == child.id and t.to_school_id == child.school_id],
            [t for t in rows if t.pupil_id == child.id and t.from_school_id == child.school_id])


@bp.route("/concerns/new", methods=["GET", "POST"])
@allow(Role.STAFF, READERS)
def new_concern() -> ResponseReturnValue:
    form = ConcernForm()
    if form.validate_on_submit():
        db = get_session()
        report = ops.record_concern(
            db, actor=staff_user(), told_by=form.told_by.data or "",
            told_by_class=form.told_by_class.data or "",
            what_happened=form.what_happened.data or "", kinds=list(form.kinds.data or []),
            places=list(form.places.data or []), when=form.when.data or None,
            feels_safe=form.feels_safe.data or None,
            people_involved=form.people_involved.data or "", word_dirs=_word_dirs())
        db.commit()
        flash("Thank you. The concern is in the DSL's queue.")
        return redirect(url_for("triage.case", report_id=report.id))
    return render_template("triage/concern.html", form=form), 400 if form.errors else 200


# The case page's forms, by endpoint: the name _render_case knows each by, and its class.
CASE_FORMS: dict[str, tuple[str, type[FlaskForm]]] = {
    "triage.decide": ("decision", DecisionForm),
    "triage.decide_and_close": ("decision", DecideCloseForm),
    "triage.acknowledge": ("acknowledge", AcknowledgeForm),
    "triage.change_status": ("status", OverridableStatusForm),
    "triage.legal_hold": ("hold", HoldForm),
    "triage.message_reporter": ("message", MessageForm),
    "triage.add_note": ("note", NoteForm),
    "triage.set_kinds": ("kinds", KindsForm),
    "triage.add_checklist": ("checklist", ChecklistForm),
    "triage.record_action": ("action", ActionForm),
    "triage.assign": ("assign", AssignForm),
    "triage.link_pupil": ("link", LinkPupilForm),
    "triage.unlink_pupil": ("unlink", UnlinkForm),
}


def _rerender_case(message: str, status: int) -> Response | None:
    """A case form refused before its view ran (a CSRF token from an expired page or another
    browser, a rate limit): the case page again, nothing saved, what was typed back in the
    form that was sent and the message in that form's card. Only for a DSL who may see the
    case; anyone else gets the plain staff error page."""
    if not current_user.is_authenticated or not current_user.reads_reports:
        return None
    args = request.view_args or {}
    report_id = args.get("report_id")
    report = ops.get_report(get_session(), staff_user(), report_id) \
        if isinstance(report_id, int) else None
    if report is None:
        return None
    endpoint = request.endpoint or ""
    forms: dict[str, Any] = {}
    if endpoint == "triage.update_steps":
        steps = StepsForm()
        steps.changes(report.checklist_items, request.form)  # keeps what was typed
        steps.step_errors.clear()  # nothing was checked: the page had expired
        steps.form_errors.append(message)
        forms["steps"] = steps
    elif endpoint == "triage.update_step":
        item = get_session().get(ChecklistItem, args.get("item_id"))
        if item is None or item.report_id != report.id:
            return None
        forms["steps"] = _step_refused(item, request.form.get("state"),
                                       request.form.get("step_note"), message)
    elif endpoint in CASE_FORMS:
        name, form_class = CASE_FORMS[endpoint]
        form = form_class()  # reads what was sent; not validated, so no other messages
        form.form_errors.append(message)
        forms[name] = form
        if endpoint == "triage.unlink_pupil":
            forms["unlink_id"] = args.get("link_id")
    else:
        return None
    return make_response(_render_case(report, status, **forms))


RERENDER.update({endpoint: _rerender_case for endpoint in
                 [*CASE_FORMS, "triage.update_steps", "triage.update_step"]})


def register_case_form(endpoint: str, name: str, form_class: type[FlaskForm]) -> None:
    """A case-page form from another module (portal.triage.views_*): refused before its
    view ran (CSRF, rate limit), it comes back on the case page with what was typed, under
    ``name`` (the key its case part reads from ``forms``)."""
    CASE_FORMS[endpoint] = (name, form_class)
    RERENDER[endpoint] = _rerender_case
