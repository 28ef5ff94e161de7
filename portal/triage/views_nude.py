"""Case page: marking a kept file as a suspected nude or semi-nude image of a child, and
letting such a file out only with a written reason naming the referral (UKCIS guidance;
the rules are in portal.casework.nude_images)."""

from __future__ import annotations

import io
from typing import Any

from flask import abort, current_app, redirect, render_template, request, send_file, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from wtforms import TextAreaField

from .. import evidence
from ..auth.access import READERS, allow, staff_user
from ..casework import nude_images
from ..db import get_session
from ..forms import clean_text, max_length
from .views import CHANGES, _act, _case, bp, register_case_form


class MarkNudeForm(FlaskForm):
    nude_note = TextAreaField(
        "Why you suspect it (optional; do not describe the image)", filters=[clean_text],
        validators=[max_length(nude_images.NOTE_LIMIT, "Keep the note to {limit} characters.")])


class ReleaseForm(FlaskForm):
    release_reason = TextAreaField(
        "Why it must leave the portal, naming the referral", filters=[clean_text],
        validators=[max_length(nude_images.RELEASE_LIMIT,
                               "Keep the reason to {limit} characters.")])


@bp.route("/cases/<int:report_id>/evidence/<int:evidence_id>/suspected-nude",
          methods=["POST"])
@allow(READERS)
def mark_nude(report_id: int, evidence_id: int) -> ResponseReturnValue:
    report = _case(report_id)
    form = MarkNudeForm()

    def change(db: Any) -> None:
        try:
            nude_images.mark(db, report, evidence_id, actor=staff_user(),
                             note=form.nude_note.data or "")
        except nude_images.EvidenceNotFound:
            abort(404)

    return _act(report, form, "nude_mark", change,
                "Marked as a suspected nude image: it will not be shown or bundled. The case "
                "is now a safeguarding concern with the CEOP step.", "evidence")


@bp.route("/cases/<int:report_id>/evidence/<int:evidence_id>/release",
          methods=["GET", "POST"])
@allow(READERS)
def release_nude(report_id: int, evidence_id: int) -> ResponseReturnValue:
    """The page that asks for the reason (GET), and the file let out with it (POST)."""
    report = _case(report_id)
    item = next((e for e in report.evidence if e.id == evidence_id), None)
    if item is None:
        abort(404)
    if not item.suspected_nude:  # nothing to ask: the ordinary download (an audit event)
        if request.method == "POST":
            abort(404)
        return redirect(url_for("triage.download_evidence", report_id=report.id,
                                evidence_id=item.id))
    form = ReleaseForm()
    problem = ""
    if form.validate_on_submit():
        db = get_session()
        path = current_app.config["PORTAL_EVIDENCE_DIR"] / str(report.school_id) \
            / item.stored_name
        if not path.is_file():
            abort(404)
        try:
            nude_images.release(db, report, evidence_id, actor=staff_user(),
                                reason=form.release_reason.data or "")
        except CHANGES as error:
            db.rollback()
            problem = str(error)
        else:
            db.commit()
            number = [e.id for e in report.evidence].index(item.id) + 1
            response = send_file(
                io.BytesIO(evidence.read(path)), mimetype=item.content_type,
                as_attachment=True, max_age=0,
                download_name=f"report-{report.id}-evidence-{number}."
                              f"{evidence.EXTENSIONS[item.content_type]}")
            response.headers["X-Content-Type-Options"] = "nosniff"
            response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
            response.headers["Cache-Control"] = "no-store"
            return response
    elif form.errors:
        problem = str(form.release_reason.errors[0]) if form.release_reason.errors else \
            "The page had expired: write the reason again."
    number = [e.id for e in report.evidence].index(item.id) + 1
    return render_template("triage/release_nude.html", report=report, item=item,
                           number=number, form=form, problem=problem), 400 if problem else 200


register_case_form("triage.mark_nude", "nude_mark", MarkNudeForm)
