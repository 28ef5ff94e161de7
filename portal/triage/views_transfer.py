"""A child's record sent to another school of the trust (issue 16; the rules are in
portal.casework.transfer): sent from the child's page, listed at ``/staff/transfers``, and
read there as a read-only copy marked as transferred, with the date."""

from __future__ import annotations

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

from ..auth.access import READERS, allow, staff_user
from ..casework import transfer
from ..db import get_session
from ..errors import RERENDER
from ..forms import as_id, clean_text, max_length
from ..models import Pupil, School
from .views import CHANGES, _pupil, bp


class TransferForm(FlaskForm):
    to_school = SelectField("Which school is the child moving to?", choices=[],
                            validate_choice=False)
    transfer_note = TextAreaField(
        "Note for their new DSL (optional)", filters=[clean_text],
        validators=[max_length(transfer.NOTE_LIMIT, "Keep the note to {limit} characters.")])


def transfer_form(child: Pupil, form: TransferForm | None = None) -> TransferForm | None:
    """The form for the child's page, or None when the school has no other school in its
    trust on the portal."""
    db = get_session()
    school = db.get(School, child.school_id)
    places = transfer.destinations(db, school) if school else []
    if not places:
        return None
    form = form or TransferForm(formdata=None)
    form.to_school.choices = [("", "Choose a school")] + [(str(s.id), s.name) for s in places]
    return form


@bp.route("/pupils/<int:pupil_id>/transfer", methods=["POST"])
@allow(READERS)
def send_transfer(pupil_id: int) -> ResponseReturnValue:
    child = _pupil(pupil_id)
    form = transfer_form(child, TransferForm())
    if form is None:
        abort(404)
    problem = ""
    if form.validate_on_submit():
        db = get_session()
        chosen = form.to_school.data or ""
        try:
            transfer.send(db, child, actor=staff_user(),
                          to_school_id=as_id(chosen) or 0,
                          note=form.transfer_note.data or "")
        except CHANGES as error:
            db.rollback()
            problem = str(error)
        else:
            db.commit()
            flash(f"{child.first_name}’s record was sent. Their new school’s DSL can read it "
                  "now; your record stays here.")
            return redirect(url_for("triage.pupil", pupil_id=child.id, _anchor="transfers"))
    elif form.transfer_note.errors:
        problem = str(form.transfer_note.errors[0])
    else:
        problem = "The page had expired: send it again."
    from .views import pupil_page

    return pupil_page(child, transfer_problem=problem, transfer_form=form, code=400)


def _rerender_transfer(message: str, status: int) -> Response | None:
    """The transfer form refused before its view ran (a token from an expired page or
    another browser): the child's page again with the note as typed and the message."""
    if not current_user.is_authenticated or not current_user.reads_reports:
        return None
    pupil_id = (request.view_args or {}).get("pupil_id")
    child = get_session().get(Pupil, pupil_id) if isinstance(pupil_id, int) else None
    if child is None or child.school_id != staff_user().school_id:
        return None
    form = transfer_form(child, TransferForm())
    if form is None:
        return None
    from .views import pupil_page

    return make_response(pupil_page(child, transfer_problem=message, transfer_form=form,
                                    code=status))


RERENDER["triage.send_transfer"] = _rerender_transfer


@bp.route("/transfers")
@allow(READERS)
def transfers() -> ResponseReturnValue:
    received, sent = transfer.for_school(get_session(), staff_user().school_id or 0)
    schools = {s.id: s.name for s in get_session().scalars(select(School))}
    return render_template("triage/transfers.html", received=received, sent=sent,
                           schools=schools)


@bp.route("/transfers/<int:transfer_id>")
@allow(READERS)
def read_transfer(transfer_id: int) -> ResponseReturnValue:
    db = get_session()
    try:
        row = transfer.read(db, transfer_id, actor=staff_user())
    except transfer.TransferNotFound:
        abort(404)
    db.commit()
    schools = {s.id: s.name for s in db.scalars(select(School).where(
        School.id.in_([row.from_school_id, row.to_school_id])))}
    return render_template("triage/transfer.html", transfer=row, record=row.record,
                           schools=schools)
