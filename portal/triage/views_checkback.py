"""Case page: check back with the reporter ("Is it better now?"). The DSL sets a day,
cancels one, and reads the answers (portal.casework.checkback holds the rules)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms import DateField, TextAreaField
from wtforms.validators import InputRequired

from ..auth.access import READERS, allow, staff_user
from ..casework import checkback
from ..forms import clean_text, max_length, required
from ..models.checkback import FEELING_LABELS, NOTE_LIMIT, CheckBack
from .case_parts import CaseRows, case_part
from .views import _act, _case, bp, register_case_form

ANCHOR = "check-back"


class DayField(DateField):
    """A date, refused in plain words when it is not one ("tomorrow", "31/12")."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = None
            raise ValueError("Enter the day to ask as a date, like 2026-12-14.") from None


class ScheduleCheckBackForm(FlaskForm):
    """A day to ask the reporter "Is it better now?" (today or later), with a note."""

    checkback_due = DayField("Day to ask", validators=[
        InputRequired("Enter the day to ask, like 2026-12-14.")])
    checkback_note = TextAreaField("Why, or what to look for (optional)", filters=[clean_text],
                                   validators=[max_length(NOTE_LIMIT,
                                                          "Keep this to {limit} characters.")])


class CancelCheckBackForm(FlaskForm):
    """Cancel a check-back that has not been answered (kept, marked cancelled)."""

    checkback_reason = TextAreaField("Why cancel (optional)", filters=[clean_text],
                                     validators=[max_length(NOTE_LIMIT,
                                                            "Keep this to {limit} characters.")])


@case_part
def _check_backs(case: CaseRows, forms: Mapping[str, Any]) -> dict[str, Any]:
    """The case's check-backs with their answers, and the two forms."""
    session, report = case.session, case.report
    rows = list(session.scalars(
        select(CheckBack).where(CheckBack.report_id == report.id)
        .options(selectinload(CheckBack.scheduled_by), selectinload(CheckBack.cancelled_by))
        .order_by(CheckBack.due_on, CheckBack.id)))
    return {
        "check_backs": rows,
        "check_back_open": next((c for c in rows if c.is_open), None),
        "check_back_today": checkback.today(),
        "check_back_labels": FEELING_LABELS,
        "check_back_form": forms.get("check_back") or ScheduleCheckBackForm(formdata=None),
        "check_back_cancel_form": forms.get("check_back_cancel")
        or CancelCheckBackForm(formdata=None),
    }


@bp.route("/cases/<int:report_id>/check-backs", methods=["POST"])
@allow(READERS)
def schedule_check_back(report_id: int) -> Any:
    report = _case(report_id)
    form = ScheduleCheckBackForm()

    def change(db: Any) -> None:
        checkback.schedule(db, report, actor=staff_user(),
                           due_on=required(form.checkback_due.data),
                           note=form.checkback_note.data or "")

    return _act(report, form, "check_back", change, "Check-back set.", ANCHOR)


@bp.route("/cases/<int:report_id>/check-backs/<int:check_id>/cancel", methods=["POST"])
@allow(READERS)
def cancel_check_back(report_id: int, check_id: int) -> Any:
    report = _case(report_id)
    form = CancelCheckBackForm()

    def change(db: Any) -> None:
        checkback.cancel(db, report, check_id, actor=staff_user(),
                         reason=form.checkback_reason.data or "")

    return _act(report, form, "check_back_cancel", change, "Check-back cancelled.", ANCHOR)


register_case_form("triage.schedule_check_back", "check_back", ScheduleCheckBackForm)
register_case_form("triage.cancel_check_back", "check_back_cancel", CancelCheckBackForm)
