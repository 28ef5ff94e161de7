"""A case worked together by two schools of one trust (issue 16; the rules are in
portal.casework.sharing). The owning school shares it, records its actions and ends the
share from the case page; the other school reads it at ``/staff/shares/<id>``, records
its own actions and may end it there. ``/staff/shares`` lists both directions."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from flask import (
    Response,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import SelectField, TextAreaField
from wtforms.validators import InputRequired

from ..auth.access import READERS, allow, staff_user
from ..casework import sharing
from ..db import get_session
from ..errors import RERENDER
from ..forms import Day, MultiCheckboxField, as_id, clean_text, max_length, required
from ..models import CaseShare, Report, School, utcnow
from .case_parts import CaseRows, case_part
from .views import CHANGES, _act, _case, bp, register_case_form

ANCHOR = "sharing"
EXTRAS = {"words": "The reporter’s own words (what happened, and who they say was involved)",
          "people": "The names and roles of the people involved"}


class ShareForm(FlaskForm):
    share_school = SelectField("Which school of the trust?", choices=[],
                               validate_choice=False)
    share_note = TextAreaField(
        "Why you are sharing it, and what you ask of them", filters=[clean_text],
        validators=[InputRequired("Write why you are sharing it and what you ask of them."),
                    max_length(sharing.NOTE_LIMIT, "Keep this to {limit} characters.")])
    share_extras = MultiCheckboxField("Share as well as the summary", choices=EXTRAS)


class SharedActionForm(FlaskForm):
    """One school's action on a share; prefixed by the share (a case may have several)."""

    done_on = Day("Day it was done", validators=[
        InputRequired("Enter the day it was done, like 2026-12-01.")])
    what = TextAreaField("What was done", filters=[clean_text], validators=[
        InputRequired("Write what was done."),
        max_length(sharing.ACTION_LIMIT, "Keep this to {limit} characters.")])


class EndShareForm(FlaskForm):
    end_reason = TextAreaField("Why the share ends", filters=[clean_text], validators=[
        InputRequired("Write why the share ends."),
        max_length(sharing.NOTE_LIMIT, "Keep this to {limit} characters.")])


def _prefix(share_id: int) -> str:
    return f"share{share_id}"


def action_form(share_id: int, **kwargs: Any) -> SharedActionForm:
    return SharedActionForm(prefix=_prefix(share_id), **kwargs)


def end_form(share_id: int, **kwargs: Any) -> EndShareForm:
    return EndShareForm(prefix=_prefix(share_id), **kwargs)


def _blank_forms(share_id: int) -> tuple[SharedActionForm, EndShareForm]:
    return action_form(share_id, formdata=None, done_on=utcnow().date()), \
        end_form(share_id, formdata=None)


def _share_form(shares: list[CaseShare], places: list[School],
                form: ShareForm | None) -> ShareForm:
    """The share form, offering the trust's schools the case is not shared with now."""
    form = form or ShareForm(formdata=None)
    taken = {s.to_school_id for s in shares if s.active}
    form.share_school.choices = {"": "Choose a school", **{
        str(s.id): s.name for s in places if s.id not in taken}}
    return form


@case_part
def _sharing(case: CaseRows, forms: Mapping[str, Any]) -> dict[str, Any]:
    """The case's shares with their actions, and the forms (a refused one with what was
    typed, for the share it was sent for)."""
    report = case.report
    school = case.session.get(School, report.school_id)
    places = sharing.destinations(case.session, school) if school else []
    rows = sharing.for_case(case.session, report)
    refused_for = (request.view_args or {}).get("share_id")
    share_forms = {}
    for row in rows:
        blank_action, blank_end = _blank_forms(row.id)
        share_forms[row.id] = (
            forms.get("share_action") if refused_for == row.id and forms.get("share_action")
            else blank_action,
            forms.get("share_end") if refused_for == row.id and forms.get("share_end")
            else blank_end)
    return {"shares": rows, "share_places": places,
            "share_in_trust": {r.id for r in rows if r.active and r.to_school_id in {
                p.id for p in places}},
            "share_form": _share_form(rows, places, forms.get("share")),
            "share_forms": share_forms, "school_names": {s.id: s.name for s in places},
            "share_schools": {s.id: s.name for s in [*places, *([school] if school else [])]}}


@bp.route("/cases/<int:report_id>/shares", methods=["POST"])
@allow(READERS)
def share_case(report_id: int) -> ResponseReturnValue:
    report = _case(report_id)
    db = get_session()
    school = db.get(School, report.school_id)
    form = _share_form(report.shares, sharing.destinations(db, school) if school else [],
                       ShareForm())
    extras = set(form.share_extras.data or [])

    def change(db: Any) -> None:
        sharing.share(db, report, actor=staff_user(),
                      to_school_id=as_id(form.share_school.data) or 0,
                      note=form.share_note.data or "", with_words="words" in extras,
                      with_people="people" in extras)

    return _act(report, form, "share", change,
                "Case shared. The other school’s DSL team can read it now.", ANCHOR)


def _owned(report_id: int, share_id: int) -> tuple[Report, CaseShare]:
    """The case (this school's) and its share, or 404."""
    report = _case(report_id)
    row = get_session().get(CaseShare, share_id)
    if row is None or row.report_id != report.id:
        abort(404)
    return report, row


@bp.route("/cases/<int:report_id>/shares/<int:share_id>/actions", methods=["POST"])
@allow(READERS)
def add_case_share_action(report_id: int, share_id: int) -> ResponseReturnValue:
    report, row = _owned(report_id, share_id)
    form = action_form(share_id)

    def change(db: Any) -> None:
        sharing.add_action(db, row, actor=staff_user(), done_on=required(form.done_on.data),
                           what=form.what.data or "", today=date.today())

    return _act(report, form, "share_action", change,
                "Action recorded on the share: the other school can read it.", ANCHOR)


@bp.route("/cases/<int:report_id>/shares/<int:share_id>/end", methods=["POST"])
@allow(READERS)
def end_case_share(report_id: int, share_id: int) -> ResponseReturnValue:
    report, row = _owned(report_id, share_id)
    form = end_form(share_id)

    def change(db: Any) -> None:
        sharing.end(db, row, actor=staff_user(), reason=form.end_reason.data or "")

    return _act(report, form, "share_end", change,
                "The share has ended: the other school can no longer read the case.", ANCHOR)


def _refused_rerender(factory: Callable[[int], FlaskForm]) -> Callable[[], FlaskForm]:
    """The form a refused (expired, rate-limited) request sent, with its share's prefix."""
    def make() -> FlaskForm:
        return factory(int((request.view_args or {}).get("share_id", 0)))

    return make


register_case_form("triage.share_case", "share", ShareForm)
register_case_form("triage.add_case_share_action", "share_action",
                   _refused_rerender(action_form))  # type: ignore[arg-type]
register_case_form("triage.end_case_share", "share_end",
                   _refused_rerender(end_form))  # type: ignore[arg-type]


# --- the other school -------------------------------------------------------------------


def _received(share_id: int) -> CaseShare:
    """A share made to the signed-in member of staff's school, or 404 (the owning school
    works on it from the case page; any other school has no such share)."""
    row = get_session().get(CaseShare, share_id)
    if row is None or row.to_school_id != staff_user().school_id:
        abort(404)
    return row


def _shared_page(row: CaseShare, code: int = 200, **forms: Any) -> ResponseReturnValue:
    db = get_session()
    blank_action, blank_end = _blank_forms(row.id)
    names = {s.id: s.name for s in db.scalars(select(School).where(
        School.id.in_([row.from_school_id, row.to_school_id])))}
    own = staff_user().school_id
    in_trust = sharing.in_one_trust(db, row)
    return render_template(
        "triage/shared_case.html", share=row, case=sharing.shared_view(db, row),
        in_trust=in_trust, can_act=in_trust,
        actions=[a for a in row.actions if (row.active and in_trust) or a.school_id == own],
        schools=names, action_form=forms.get("share_action") or blank_action,
        end_form=forms.get("share_end") or blank_end), code


@bp.route("/shares")
@allow(READERS)
def shares() -> ResponseReturnValue:
    db = get_session()
    own = staff_user().school_id or 0
    names = {s.id: s.name for s in db.scalars(select(School))}
    return render_template("triage/shares.html", received=sharing.received(db, own),
                           sent=sharing.sent(db, own), schools=names)


@bp.route("/shares/<int:share_id>")
@allow(READERS)
def shared_case(share_id: int) -> ResponseReturnValue:
    db = get_session()
    row = db.get(CaseShare, share_id)
    if row is not None and row.from_school_id == staff_user().school_id:
        # the owning school works on its own case page
        return redirect(url_for("triage.case", report_id=row.report_id, _anchor=ANCHOR))
    row = _received(share_id)
    sharing.record_view(db, row, actor=staff_user())
    db.commit()  # the view event is the only thing a GET writes
    return _shared_page(row)


def _partner_act(share_id: int, form: FlaskForm, name: str, change: Any,
                 done: str) -> ResponseReturnValue:
    row = _received(share_id)
    if form.validate_on_submit():
        db = get_session()
        try:
            change(db, row)
        except CHANGES as error:
            db.rollback()
            form.form_errors.append(str(error))
        else:
            db.commit()
            flash(done)
            return redirect(url_for("triage.shared_case", share_id=row.id))
    return _shared_page(row, 400, **{name: form})


@bp.route("/shares/<int:share_id>/actions", methods=["POST"])
@allow(READERS)
def add_shared_action(share_id: int) -> ResponseReturnValue:
    form = action_form(share_id)
    return _partner_act(share_id, form, "share_action", lambda db, row: sharing.add_action(
        db, row, actor=staff_user(), done_on=required(form.done_on.data),
        what=form.what.data or "", today=date.today()),
        "Action recorded on the share: the case’s own school can read it.")


@bp.route("/shares/<int:share_id>/end", methods=["POST"])
@allow(READERS)
def end_shared(share_id: int) -> ResponseReturnValue:
    form = end_form(share_id)
    return _partner_act(share_id, form, "share_end", lambda db, row: sharing.end(
        db, row, actor=staff_user(), reason=form.end_reason.data or ""),
        "The share has ended. Your own actions stay here for your records.")


def _partner_rerender(message: str, status: int) -> Response | None:
    """A form on the shared-case page refused before its view ran (an expired page, a
    token from another browser): the page again with what was typed and the message."""
    if not current_user.is_authenticated or not current_user.reads_reports:
        return None
    share_id = (request.view_args or {}).get("share_id")
    row = get_session().get(CaseShare, share_id) if isinstance(share_id, int) else None
    if row is None or row.to_school_id != staff_user().school_id:
        return None
    if request.endpoint == "triage.add_shared_action":
        form: FlaskForm = action_form(row.id)
        name = "share_action"
    else:
        form, name = end_form(row.id), "share_end"
    form.form_errors.append(message)
    return make_response(_shared_page(row, status, **{name: form}))


RERENDER.update({"triage.add_shared_action": _partner_rerender,
                 "triage.end_shared": _partner_rerender})


__all__ = ["EndShareForm", "ShareForm", "SharedActionForm"]
