"""The reporter's side of checking back: "Is it better now?" on the follow-up page.

From the day a DSL set (portal.casework.checkback), a reporter who types their follow-up code is
asked this one question first, with three pictures and words, and may write more. The
page is the follow-up page's own (``/follow-up``, the code in the form body, a one-time
pass per page: portal.visit), so Reload, Back and Forward on a shared tablet behave as
they do there: the code must be typed again, and an answer is never sent twice.
"""

from __future__ import annotations

from flask import current_app, render_template, request, session
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, TextAreaField

from .. import visit
from ..casework import checkback
from ..forms import clean_text
from ..models import A_LITTLE_BETTER, BETTER, NOT_BETTER, CheckBack, Report

# The child's words under each picture (staff read portal.models.FEELING_LABELS).
FEELING_WORDS = {BETTER: "Better", A_LITTLE_BETTER: "A little better",
                 NOT_BETTER: "Not better"}
THANKS = {
    BETTER: "Thank you for telling us. We are glad it is better.",
    A_LITTLE_BETTER: "Thank you for telling us. The school will keep helping.",
    NOT_BETTER: "Thank you for telling us. You were right to say so. Someone at school "
                "will look at this first.",
}


class CheckBackForm(FlaskForm):
    """The answer, sent with the code typed (in the form, never the URL) and the check's
    number, which must be the due check of the report that code opens."""

    code = HiddenField()
    check_back = HiddenField()
    feeling = RadioField("Is it better now?", choices=FEELING_WORDS, validate_choice=False)
    more = TextAreaField("Do you want to tell us more?", filters=[clean_text])


def asking(form: dict[str, str]) -> bool:
    """Whether the form sent is an answer to the question (rather than the code, a reply
    or "not now")."""
    return "check_back" in form and "later" not in form


def question(report: Report, check: CheckBack, form: CheckBackForm | None = None,
             status: int = 200, message: str | None = None) -> tuple[str, int]:
    """The question page, with a fresh one-time pass for this visit."""
    form = form or CheckBackForm(formdata=None)
    form.code.data = request.form.get("code", "")
    form.check_back.data = str(check.id)
    once = visit.issue(session, str(current_app.config["SECRET_KEY"]), visit.PASSES)
    reader = "parent" if report.source.value == "parent" else "pupil"
    return render_template("reporting/check_back.html", form=form, once=once, reader=reader,
                           school=report.school, feelings=FEELING_WORDS,
                           message=message), status


def answer(db: object, report: Report, check: CheckBack) -> tuple[CheckBackForm, str | None]:
    """Record the answer sent now; returns the form and the refusal's words (None: kept)."""
    form = CheckBackForm()
    try:
        checkback.answer(db, report, check, feeling=form.feeling.data,  # type: ignore[arg-type]
                         more=form.more.data or "",
                         base_url=current_app.config["PORTAL_BASE_URL"])
    except checkback.AnswerRefused as refused:
        form.feeling.errors = [str(refused)] if not form.feeling.data or \
            form.feeling.data not in FEELING_WORDS else []
        if not form.feeling.errors:
            form.more.errors = [str(refused)]
        return form, str(refused)
    return form, None
