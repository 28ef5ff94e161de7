"""Case page: the DSL adds evidence (issue 16): screenshots or scans of printouts, checked,
stripped of metadata and hashed as a reporter's files are, and web addresses with the day
they were seen (portal.casework.staff_evidence holds the rules)."""

from __future__ import annotations

from typing import Any, BinaryIO, cast

from flask import current_app, request
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import DateField, StringField, TextAreaField

from .. import evidence
from ..auth.access import READERS, allow, staff_user
from ..casework import staff_evidence
from ..forms import clean_text, max_length, required
from ..models import utcnow
from .views import _act, _case, _render_case, bp, register_case_form

ANCHOR = "evidence"


class SeenOnField(DateField):
    """A date, refused in plain words when it is not one."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = None
            raise ValueError("Enter the day it was seen as a date, like 2026-12-01.") from None


class StaffEvidenceForm(FlaskForm):
    # its own id: "evidence" is the case page section it sits in
    evidence = MultipleFileField("Screenshots or scans of printouts", id="add-evidence-files")
    link_url = StringField("Or a web address", filters=[clean_text],
                           validators=[max_length(staff_evidence.URL_LIMIT,
                                                  "Keep the web address to {limit} characters.")])
    link_seen_on = SeenOnField("Day it was seen", validators=[])
    link_note = TextAreaField("Note (optional)", filters=[clean_text],
                              validators=[max_length(staff_evidence.NOTE_LIMIT,
                                                     "Keep the note to {limit} characters.")])


@bp.url_value_preprocessor
def _room_for_files(endpoint: str | None, _values: dict[str, Any] | None) -> None:
    """The form that carries files may be as large as a reporter's (see
    portal.reporting.views._room_for_evidence); every other staff form keeps 1 MiB."""
    if endpoint == "triage.add_evidence" and request.mimetype == "multipart/form-data":
        request.max_content_length = evidence.MAX_REQUEST_BYTES


@bp.route("/cases/<int:report_id>/evidence", methods=["POST"])
@allow(READERS)
def add_evidence(report_id: int) -> ResponseReturnValue:
    report = _case(report_id)
    form = StaffEvidenceForm()
    uploads = [f for f in request.files.getlist("evidence") if f and f.filename]
    url = (form.link_url.data or "").strip()
    if not form.validate_on_submit():
        return _render_case(report, 400, None, staff_evidence=form)
    if not uploads and not url:
        form.form_errors.append("Choose a file, or give a web address.")
        return _render_case(report, 400, None, staff_evidence=form)
    cleaned: list[evidence.CleanFile] = []
    if uploads:
        try:
            cleaned = evidence.clean_all([
                (f"File {n} (“{(u.filename or '')[-60:]}”)", cast(BinaryIO, u.stream))
                for n, u in enumerate(uploads, start=1)])
        except evidence.EvidenceRefused as refused:
            form.evidence.errors = [f"{refused} Nothing was added; choose the files again."]
            return _render_case(report, 400, None, staff_evidence=form)
    if url and form.link_seen_on.data is None:
        form.link_seen_on.errors = ["Enter the day it was seen, like 2026-12-01."]
        return _render_case(report, 400, None, staff_evidence=form)
    written: list[Any] = []
    finished: list[bool] = []
    today = utcnow().date()

    def change(db: Any) -> None:
        if cleaned:
            written.extend(staff_evidence.add_files(
                db, report, cleaned, actor=staff_user(),
                evidence_dir=current_app.config["PORTAL_EVIDENCE_DIR"]))
        if url:
            staff_evidence.add_link(db, report, actor=staff_user(), url=url,
                                    seen_on=required(form.link_seen_on.data),
                                    note=form.link_note.data or "", today=today)
        finished.append(True)  # nothing refused: _act commits next

    try:
        answer = _act(report, form, "staff_evidence", change, "Evidence added.", ANCHOR)
    except BaseException:
        evidence.remove(written)
        raise
    if not finished:
        evidence.remove(written)  # refused after the files were written: none are kept
    return answer


register_case_form("triage.add_evidence", "staff_evidence", StaffEvidenceForm)
