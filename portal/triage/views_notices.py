"""The case page's notices: a policy step's "Send notice to …", and telling the adult a
pupil asked for; and the school's list of the notices addressed to the Principal, for the
head and the DSL team. Short views: parse, call one rule, commit, redirect."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from ..auth.access import READERS, allow, staff_user
from ..casework import notices
from ..db import get_session
from ..forms import as_id
from ..jobs import send_soon
from ..models import CONTACT_ROLE_LABELS, Report, Role, SchoolContact
from . import case_parts
from .forms_notices import AdultNoticeForm, StepNoticeForm
from .views import CHANGES, _case, _render_case, bp, register_case_form

ANCHOR = "notices"


@case_parts.case_part
def _notices_part(case: case_parts.CaseRows, forms: Mapping[str, Any]) -> dict[str, Any]:
    """The notice steps on the case with their contacts, the adult the pupil chose, and
    the notices sent."""
    session, report = case.session, case.report
    school_contacts = notices.contacts(session, report.school_id, active_only=True,
                                       rows=case.school_contacts)
    adult = notices.chosen_adult(session, report, case.adults)
    return {
        "notice_items": [(item, notices.eligible(school_contacts, item.key),
                          notices.roles_words(item.key))
                         for item in notices.notice_items(report)],
        "notice_counts": notices.sent_counts(session, report),
        "notice_form": forms.get("notice") or StepNoticeForm(formdata=None),
        "notices_sent": notices.sent_list(session, report, school_contacts=case.school_contacts,
                                           adults=case.adults),
        "chosen_adult": adult,
        "chosen_adult_account": notices.adult_account(session, adult),
        "adult_step": notices.ADULT_STEP,
        "adult_form": forms.get("adult_notice") or AdultNoticeForm(formdata=None),
        "contact_role_labels": CONTACT_ROLE_LABELS,
    }


def _done(report: Report) -> ResponseReturnValue:
    """Back to the case's notices (a reload then re-sends nothing), the mail on its way."""
    send_soon(current_app._get_current_object())  # type: ignore[attr-defined]
    return redirect(url_for("triage.case", report_id=report.id, _anchor=ANCHOR))


@bp.route("/cases/<int:report_id>/notices", methods=["POST"])
@allow(READERS)
def send_notice(report_id: int) -> ResponseReturnValue:
    """Email the contacts a policy step asks to be informed (cyber-bullying policy 4.4,
    4.9, 5.4, 5.8); the same press arriving twice sends once."""
    report = _case(report_id)
    db = get_session()
    # Another school's contact is no contact here (SECURITY P8: other schools' ids 404).
    chosen: list[SchoolContact] = []
    for value in request.form.getlist("contacts"):
        contact_id = as_id(value)
        contact = db.get(SchoolContact, contact_id) if contact_id is not None else None
        if contact is not None and contact.school_id != report.school_id:
            abort(404)
        if contact is not None:
            chosen.append(contact)
    form = StepNoticeForm()
    form.contacts.choices = {str(c.id): c.name for c in
                             notices.contacts(db, report.school_id)}
    if form.validate_on_submit():
        try:
            sent = notices.send_step_notice(
                db, report, actor=staff_user(), step=form.step.data or "", to=chosen,
                seen=form.seen_counts(), mark_done=bool(form.mark_done.data),
                base_url=current_app.config["PORTAL_BASE_URL"])
        except CHANGES as error:
            db.rollback()
            form.form_errors.append(str(error))
        else:
            db.commit()
            if sent.told:
                flash(f"Notice sent to {', '.join(c.name for c in sent.told)}.")
            if sent.already:
                flash(f"Already sent to {', '.join(c.name for c in sent.already)}: not sent "
                      "again. To send it again, use “Send again”.")
            return _done(report)
    return _render_case(report, 400, None, notice=form)


@bp.route("/cases/<int:report_id>/adult-notice", methods=["POST"])
@allow(READERS)
def tell_adult(report_id: int) -> ResponseReturnValue:
    """Tell the adult the pupil chose that a pupil asked for them (the DSL's choice)."""
    report = _case(report_id)
    db = get_session()
    form = AdultNoticeForm()
    if form.validate_on_submit():
        try:
            told = notices.tell_adult(db, report, actor=staff_user(),
                                      seen=int(form.seen.data or 0))
        except CHANGES as error:
            db.rollback()
            form.form_errors.append(str(error))
        else:
            db.commit()
            adult = notices.chosen_adult(db, report)
            name = adult.name if adult else "The adult"
            flash(f"{name} has been told a pupil asked for them." if told else
                  f"{name} had been told already: not sent again.")
            return _done(report)
    return _render_case(report, 400, None, adult_notice=form)


register_case_form("triage.send_notice", "notice", StepNoticeForm)
register_case_form("triage.tell_adult", "adult_notice", AdultNoticeForm)


@bp.route("/notices")
@allow(READERS, Role.HEAD)
def principal_notices() -> ResponseReturnValue:
    """The notices the school sent under the steps addressed to the Principal/SLT
    (cyber-bullying policy 4.4, 5.4), newest first: for a head, the case number only (the
    design's "no report text"; the case page is the DSL team's), for the DSL team a link."""
    user = staff_user()
    if user.school_id is None:
        abort(404)
    raw = request.args.get("page", "1")
    page = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 7 else 1
    found = notices.principal_notices(get_session(), user.school_id, page=page,
                                     per_page=notices.PRINCIPAL_PAGE)
    return render_template("triage/principal_notices.html", notices=found,
                           case_links=user.reads_reports)
