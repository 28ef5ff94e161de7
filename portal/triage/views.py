"""The triage queue and the case page. Short views: parse, call a rule, commit, redirect."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm

from ..auth.access import ALL_STAFF, READERS, allow, staff_user
from ..db import get_session
from ..models import Report, Role
from ..vocabulary import ALL_KINDS, SOURCE_LABELS, STATUS_LABELS, Category, Status
from . import operations as ops
from .forms import DecisionForm, NoteForm, StatusForm

bp = Blueprint("triage", __name__, url_prefix="/staff")

STATUS_FILTERS = [("open", "Open"), *[(s.value, STATUS_LABELS[s]) for s in Status],
                  ("all", "All")]


def _filters() -> ops.QueueFilters:
    args = request.args
    page = args.get("page", "1")
    status = args.get("status", "open")
    kind = args.get("kind", "")
    source = args.get("source", "")
    return ops.QueueFilters(
        status=status if status in dict(STATUS_FILTERS) else "open",
        kind=kind if kind in {k.value for k in ALL_KINDS} else "",
        source=source if source in SOURCE_LABELS else "",
        page=int(page) if page.isdigit() and len(page) < 7 else 1,
    )


@bp.route("/")
@allow(ALL_STAFF)
def queue() -> ResponseReturnValue:
    user = staff_user()
    if user.role == Role.ADMIN:
        return redirect(url_for("admin.home"))
    if user.role == Role.TRUST_LEAD:
        return redirect(url_for("admin.trust"))
    filters = _filters()
    page = ops.queue(get_session(), user, filters)
    return render_template(
        "triage/queue.html", page=page, filters=filters, status_filters=STATUS_FILTERS,
        kinds=ALL_KINDS, sources=SOURCE_LABELS,
    )


def _case(report_id: int) -> Report:
    report = ops.get_report(get_session(), staff_user(), report_id)
    if report is None:
        abort(404)
    return report


def _render_case(report: Report, *, decision: FlaskForm | None = None,
                 status: FlaskForm | None = None, note: FlaskForm | None = None,
                 code: int = 200) -> ResponseReturnValue:
    db = get_session()
    decision_form = decision or DecisionForm(formdata=None, category=report.category.value)
    status_form = status or StatusForm(formdata=None)
    status_form.status.choices = {
        s.value: STATUS_LABELS[s] for s in Status if s in ops.ALLOWED[report.status]
    }
    events = ops.chronology(db, report)
    return render_template(
        "triage/case.html", report=report, decision_form=decision_form,
        status_form=status_form, note_form=note or NoteForm(formdata=None),
        events=[e for e in events if e.action != "case.viewed"],
        views=[e for e in events if e.action == "case.viewed"],
    ), code


@bp.route("/cases/<int:report_id>")
@allow(READERS, Role.STAFF)
def case(report_id: int) -> ResponseReturnValue:
    report = _case(report_id)
    db = get_session()
    ops.record_view(db, report, actor=staff_user())
    db.commit()
    return _render_case(report)


@bp.route("/cases/<int:report_id>/decision", methods=["POST"])
@allow(READERS)
def decide(report_id: int) -> ResponseReturnValue:
    report = _case(report_id)
    form = DecisionForm()
    if form.validate_on_submit():
        db = get_session()
        try:
            ops.record_decision(db, report, actor=staff_user(),
                                category=Category(form.category.data), reason=form.reason.data)
        except (ops.InvalidTransition, ops.ReasonRequired) as error:
            db.rollback()
            form.category.errors = [str(error)]
        else:
            db.commit()
            flash("Decision recorded.")
            return redirect(url_for("triage.case", report_id=report.id))
    return _render_case(report, decision=form, code=400)


@bp.route("/cases/<int:report_id>/status", methods=["POST"])
@allow(READERS)
def change_status(report_id: int) -> ResponseReturnValue:
    report = _case(report_id)
    form = StatusForm()
    if form.validate_on_submit():
        db = get_session()
        try:
            ops.change_status(db, report, actor=staff_user(), status=Status(form.status.data),
                              reason=form.status_reason.data)
        except (ops.InvalidTransition, ops.ReasonRequired) as error:
            db.rollback()
            form.status.errors = [str(error)]
        else:
            db.commit()
            flash(f"Status changed to {STATUS_LABELS[report.status].lower()}.")
            return redirect(url_for("triage.case", report_id=report.id))
    return _render_case(report, status=form, code=400)


@bp.route("/cases/<int:report_id>/notes", methods=["POST"])
@allow(READERS)
def add_note(report_id: int) -> ResponseReturnValue:
    report = _case(report_id)
    form = NoteForm()
    if form.validate_on_submit():
        db = get_session()
        ops.add_note(db, report, actor=staff_user(), note=form.note.data or "")
        db.commit()
        flash("Note added.")
        return redirect(url_for("triage.case", report_id=report.id))
    return _render_case(report, note=form, code=400)
