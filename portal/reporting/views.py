"""Reporter pages. Views parse the form, call one rule, commit, and show the result."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from werkzeug.wrappers import Response as BaseResponse

from .. import evidence, exits, kiosk, priority, visit
from ..casework import checkback
from ..db import get_session
from ..errors import RERENDER
from ..forms import required
from ..jobs import send_soon
from ..models import Report, School
from ..security import (
    is_kiosk,
    limiter,
    network_guess_limits,
    network_key,
    network_report_limits,
    report_limits,
)
from ..templating import uk_date
from ..vocabulary import ADULT_ANYONE, ADULT_NOBODY
from . import checkback as checkback_page
from . import operations
from .advice import advice_for
from .forms import FollowUpForm, ParentReportForm, PupilReportForm, ReplyForm

bp = Blueprint("reporting", __name__)
log = logging.getLogger(__name__)

NOT_STORED = ("We could not save your report just now. Everything you wrote is still here. "
              "Please press Send again in a minute, or tell an adult you trust.")
# A form sent again from the browser's history after its visit ended (Back, then Reload, on
# a shared tablet), or carrying a value this browser was never given: shown empty (P4).
START_AGAIN = ("This page was cleared, so nobody can see what was written on it before. "
               "If you want to tell us something, you can start here.")
CODE_AGAIN = ("Please type your code again. We clear this page each time, so that nobody "
              "else using this device can see your report.")


def _secret() -> str:
    return str(current_app.config["SECRET_KEY"])


def _ours(purpose: str, field: str) -> bool:
    """Whether the form sent now carries a value issued to this visit (see portal.visit)."""
    return visit.holds(session, _secret(), purpose, request.form.get(field))


def _word_dirs() -> tuple[Path, ...]:
    return priority.word_dirs(current_app.instance_path)


SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,59}$")


def _find_school(slug: str) -> School | None:
    """The school with this slug; odd text (NUL, very long) is never sent to the database."""
    if not SLUG.match(slug):
        return None
    return get_session().scalar(select(School).where(School.slug == slug))


def _school(slug: str) -> School:
    school = _find_school(slug)
    if school is None:
        abort(404)
    return school


def _only_school() -> School | None:
    schools = get_session().scalars(select(School).order_by(School.name).limit(2)).all()
    return schools[0] if len(schools) == 1 else None


@bp.before_app_request
def _kiosk() -> None:
    """Note an enrolled kiosk tablet (its signed cookie) for templates and rate limits."""
    cookie = request.cookies.get(kiosk.COOKIE)
    g.kiosk = kiosk.find(get_session(), cookie, current_app.config["SECRET_KEY"]) \
        if cookie else None


@bp.app_context_processor
def _kiosk_context() -> dict[str, Any]:
    return {"kiosk": g.get("kiosk"), "kiosk_idle": kiosk.IDLE_SECONDS,
            "kiosk_done": kiosk.DONE_SECONDS}


@bp.route("/")
def index() -> ResponseReturnValue:
    device = g.get("kiosk")
    if device is not None:  # an enrolled tablet opens straight on its school's pupil form
        return redirect(url_for("reporting.pupil_form", slug=device.school.slug))
    return render_template("reporting/index.html", school=_only_school())


def _forget_visit(response: BaseResponse, *, cookies: bool) -> BaseResponse:
    """End this browser's visit: its form session, cache and storage go (and, for the quick
    exit, every cookie). An enrolled kiosk keeps its enrolment, its own cookie: there the
    visit's cookie is deleted by name instead, since Clear-Site-Data "cookies" would remove
    the enrolment too (trial finding: one tap of the quick exit un-enrolled the tablet)."""
    cleared = ['"cache"', '"storage"']
    if cookies and g.get("kiosk") is None:
        cleared.insert(1, '"cookies"')
    response.headers["Clear-Site-Data"] = ", ".join(cleared)
    response.delete_cookie(current_app.config["SESSION_COOKIE_NAME"])
    return response


@bp.route("/kiosk/reset")
@limiter.exempt
def kiosk_reset() -> BaseResponse:
    """Back to a clean start: forget this browser's visit (not the tablet's enrolment), then
    the pupil form again."""
    device = g.get("kiosk")
    target = url_for("reporting.pupil_form", slug=device.school.slug) if device \
        else url_for("reporting.index")
    return _forget_visit(redirect(target, 303), cookies=False)


@bp.route("/healthz")
@limiter.exempt
def healthz() -> ResponseReturnValue:
    try:
        get_session().execute(text("SELECT 1"))
    except SQLAlchemyError:
        return {"status": "database unavailable"}, 503
    return {"status": "ok"}


@bp.route("/exit")
@limiter.exempt
def quick_exit() -> BaseResponse:
    """Quick exit: forget this browser's visit, then a neutral page the school chose from a
    fixed list (portal.exits), so nobody can use it to learn a reporter's address."""
    school = _find_school(request.args.get("s", ""))
    target = exits.destination(school.exit_url if school else None)
    return _forget_visit(redirect(target, 303), cookies=True)


@bp.route(exits.TABLES)
@limiter.exempt
def times_tables() -> ResponseReturnValue:
    """The portal's own neutral quick-exit page: a times-table square, nothing else."""
    return render_template("reporting/times_tables.html", numbers=range(1, 13))


def _choose(kind: str) -> ResponseReturnValue:
    school = _only_school()
    if school is not None:
        return redirect(url_for(f"reporting.{kind}_form", slug=school.slug))
    schools = get_session().scalars(select(School).order_by(School.name)).all()
    return render_template("reporting/choose_school.html", schools=schools, kind=kind)


@bp.route("/pupil")
def pupil_choose() -> ResponseReturnValue:
    return _choose("pupil")


@bp.route("/parent")
def parent_choose() -> ResponseReturnValue:
    return _choose("parent")


def _adult_choices(school: School) -> dict[str, str]:
    adults = {str(a.id): f"{a.name} ({a.description})" if a.description else a.name
              for a in school.trusted_adults if a.active}
    return {ADULT_ANYONE: "Any adult at school", **adults,
            ADULT_NOBODY: "I don't want to talk to anyone yet"}


def _submission(form: Any) -> None:
    """Keep the visit's own one-time value; anything else gets a new one from the server."""
    if not (request.method == "POST" and _ours(visit.FORMS, "submission")):
        form.submission.data = visit.issue(session, _secret(), visit.FORMS)


def _pupil_form(school: School, *, fresh: bool = False) -> PupilReportForm:
    form = PupilReportForm(formdata=None) if fresh else PupilReportForm()
    form.adult.choices = _adult_choices(school)
    if not form.adult.data:
        form.adult.data = ADULT_ANYONE
    _submission(form)
    return form


def _render_pupil(school: School, form: PupilReportForm, status: int = 200,
                  message: str | None = None) -> Response:
    return make_response(
        render_template("reporting/pupil_form.html", school=school, form=form, message=message),
        status,
    )


def _store(save: Any, on_error: Any) -> Any:
    """Commit the report, or say truthfully that it was not stored (nothing half-saved: no
    rows and no files). After the commit, the email it caused is tried once."""
    db = get_session()
    stored: operations.Stored | None = None
    try:
        stored = save(db)
        db.commit()
    except IntegrityError:
        # The same form sent twice at once: the other request stored it; show that one.
        db.rollback()
        evidence.remove(list(stored.files) if stored else [])
        return None
    except SQLAlchemyError:
        db.rollback()
        evidence.remove(list(stored.files) if stored else [])
        log.exception("a report could not be stored")
        return on_error()
    except BaseException:
        db.rollback()
        evidence.remove(list(stored.files) if stored else [])
        raise
    send_soon(current_app._get_current_object())  # type: ignore[attr-defined]
    return stored


def _extras(files: list[evidence.CleanFile]) -> operations.Extras:
    return operations.Extras(files=tuple(files),
                             evidence_dir=current_app.config["PORTAL_EVIDENCE_DIR"],
                             base_url=current_app.config["PORTAL_BASE_URL"],
                             word_dirs=_word_dirs())


def _uploads(form: Any) -> list[evidence.CleanFile] | None:
    """The files sent with a form, cleaned; None (with a message on the form) if refused.
    The uploads stay in their temporary files until each is checked and read in turn."""
    uploads = [f for f in request.files.getlist("evidence") if f and f.filename]
    named: list[tuple[str, Any]] = []
    for number, upload in enumerate(uploads, start=1):
        shown = (upload.filename or "")[-60:]
        named.append((f"File {number} (“{shown}”)", upload.stream))
    try:
        return evidence.clean_all(named)
    except evidence.EvidenceRefused as refused:
        form.evidence.errors = [f"{refused} Your words are still here; please choose your "
                                "files again, or send without them."]
        return None


@bp.url_value_preprocessor
def _room_for_evidence(endpoint: str | None, _values: dict[str, Any] | None) -> None:
    """The two report forms may carry up to five files; every other page, and any body that
    is not multipart (a urlencoded body is read into memory whole), keeps 1 MiB.

    A URL value preprocessor, because those run before every before_request function, the
    app's own included: CSRF protection reads the form there, and a limit raised any later
    would come after the body had already been refused under the app-wide 1 MiB."""
    if endpoint in ("reporting.pupil_form", "reporting.parent_form") \
            and request.mimetype == "multipart/form-data":
        request.max_content_length = evidence.MAX_REQUEST_BYTES


@bp.route("/s/<slug>/pupil", methods=["GET", "POST"])
@limiter.limit(report_limits, methods=["POST"])
@limiter.limit(network_report_limits, key_func=network_key, methods=["POST"],
               exempt_when=is_kiosk)
def pupil_form(slug: str) -> ResponseReturnValue:
    school = _school(slug)
    if request.method == "POST" and not _ours(visit.FORMS, "submission"):
        return _render_pupil(school, _pupil_form(school, fresh=True), 400, START_AGAIN)
    form = _pupil_form(school)
    if not form.validate_on_submit():
        status = 400 if form.errors else 200
        return _render_pupil(school, form, status)
    files = _uploads(form)
    if files is None:
        return _render_pupil(school, form, 400)
    token = required(form.submission.data)  # _ours() checked it above
    data = operations.PupilSubmission(
        about=form.about.data,
        kinds=list(form.kinds.data or []),
        what_happened=form.what_happened.data or "",
        places=list(form.places.data or []),
        when=form.when.data or None,
        happened_before=form.happened_before.data or None,
        who_involved=form.who_involved.data or "",
        feels_safe=form.feels_safe.data,
        anonymous=form.anonymous.data != "no",
        reporter_name=form.reporter_name.data or "",
        reporter_class=form.reporter_class.data or "",
        adult=form.adult.data or ADULT_ANYONE,
    )
    stored = _store(
        lambda db: operations.submit_pupil_report(db, school, data, token=token,
                                                  extras=_extras(files)),
        lambda: _render_pupil(school, form, 503, NOT_STORED),
    )
    if isinstance(stored, Response):
        return stored
    if stored is None:
        try:
            stored = operations.find_repeat(get_session(), token)
        except operations.RepeatTooLate:  # a copy of an old visit's cookie, replayed
            return _render_pupil(school, _pupil_form(school, fresh=True), 400, START_AGAIN)
        if stored is None:
            return _render_pupil(school, form, 503, NOT_STORED)
    report = stored.report
    session.clear()  # the next child on this tablet starts afresh (P4)
    return render_template(
        "reporting/pupil_done.html",
        school=school,
        code=stored.code,
        feels_safe=report.feels_safe,
        adult=report.preferred_adult,
        files=len(report.evidence),
        advice=advice_for(kinds=report.kind_values, places=list(report.places),
                          about=report.about),
    )


def _parent_form(school: School, *, fresh: bool = False) -> ParentReportForm:
    form = ParentReportForm(formdata=None) if fresh else ParentReportForm()
    form.child_year.offer(school.phase)
    _submission(form)
    return form


def _render_parent(school: School, form: ParentReportForm, status: int = 200,
                   message: str | None = None) -> Response:
    return make_response(
        render_template("reporting/parent_form.html", school=school, form=form, message=message),
        status,
    )


@bp.route("/s/<slug>/parent", methods=["GET", "POST"])
@limiter.limit(report_limits, methods=["POST"])
@limiter.limit(network_report_limits, key_func=network_key, methods=["POST"],
               exempt_when=is_kiosk)
def parent_form(slug: str) -> ResponseReturnValue:
    school = _school(slug)
    if request.method == "POST" and not _ours(visit.FORMS, "submission"):
        return _render_parent(school, _parent_form(school, fresh=True), 400, START_AGAIN)
    form = _parent_form(school)
    if not form.validate_on_submit():
        return _render_parent(school, form, 400 if form.errors else 200)
    files = _uploads(form)
    if files is None:
        return _render_parent(school, form, 400)
    token = required(form.submission.data)  # _ours() checked it above
    data = operations.ParentSubmission(
        child_name=form.child_name.data or "",
        child_year=form.child_year.data or "",
        concern=list(form.concern.data or []),
        kinds=list(form.kinds.data or []),
        details=form.details.data or "",
        since_when=form.since_when.data or "",
        told_before=form.told_before.data or None,
        parent_name=form.parent_name.data or "",
        contact_email=form.contact_email.data or "",
        contact_phone=form.contact_phone.data or "",
        contact_preference=form.contact_preference.data,
        email_updates=form.email_updates.data == "yes",
    )
    stored = _store(
        lambda db: operations.submit_parent_report(db, school, data, token=token,
                                                   extras=_extras(files)),
        lambda: _render_parent(school, form, 503, NOT_STORED),
    )
    if isinstance(stored, Response):
        return stored
    if stored is None:
        try:
            stored = operations.find_repeat(get_session(), token)
        except operations.RepeatTooLate:  # a copy of an old visit's cookie, replayed
            return _render_parent(school, _parent_form(school, fresh=True), 400, START_AGAIN)
        if stored is None:
            return _render_parent(school, form, 503, NOT_STORED)
    session.clear()
    return render_template("reporting/parent_done.html", school=school, code=stored.code,
                           files=len(stored.report.evidence))


NOT_FOUND = "We could not find a report with that code. Check the numbers and try again."


def _code_page(form: FollowUpForm, status: int = 200,
               message: str | None = None) -> tuple[str, int]:
    """The code form, with a fresh one-time pass for this visit."""
    once = visit.issue(session, _secret(), visit.PASSES)
    return render_template("reporting/follow_up.html", form=form, once=once,
                           message=message), status


def _status_page(report: Report, reply: ReplyForm | None = None,
                 status: int = 200) -> ResponseReturnValue:
    db = get_session()
    messages = operations.reporter_view(db, report)
    db.commit()
    reply = reply or ReplyForm(formdata=None)
    reply.code.data = request.form.get("code", "")
    return render_template(
        "reporting/follow_up_status.html",
        report=report,
        status=operations.reporter_status(report, uk_date),
        school=report.school,
        messages=messages,
        reply=reply,
        once=visit.issue(session, _secret(), visit.PASSES),
    ), status


@bp.route("/follow-up", methods=["GET", "POST"])
@limiter.limit("10 per minute;60 per hour", methods=["POST"])
@limiter.limit(network_guess_limits, key_func=network_key, methods=["POST"])
def follow_up() -> ResponseReturnValue:
    """Enter a code; see the status and messages; reply. The code travels in the form body
    (never the URL or the cookie)."""
    if request.method == "POST" and not visit.spend(session, _secret(), visit.PASSES,
                                                     request.form.get("once")):
        # Sent again from history (Reload on the status page, or Back after "I'm
        # finished"): the code must be typed again, so the next person sees nothing.
        return _code_page(FollowUpForm(formdata=None), 400, CODE_AGAIN)
    form = FollowUpForm()
    if not form.validate_on_submit():
        return _code_page(form, 400 if form.errors else 200)
    db = get_session()
    report = operations.find_by_code(db, form.code.data or "")
    if report is None:
        # One neutral answer for a mistyped, unknown, empty or malformed code.
        form.code.errors = [NOT_FOUND]
        return _code_page(form)
    check = checkback.due(db, report)
    if check is not None and "message" not in request.form:
        # "Is it better now?" comes before anything else on the page, until answered.
        return _check_back(report, check)
    if "message" not in request.form:
        return _status_page(report)
    reply = ReplyForm()
    try:
        operations.reply_to_school(db, report, reply.message.data or "")
    except operations.EmptyMessage as error:
        db.rollback()
        reply.message.errors = [str(error)]
        return _status_page(report, reply, 400)
    db.commit()
    flash("Thank you. We sent your message to the school.")
    return _status_page(report)


def _check_back(report: Report, check: Any) -> ResponseReturnValue:
    """Ask the question (the code was just typed, or "not now" was not pressed), or keep
    the answer sent and show the report with a thank-you; "Not now" shows the report."""
    if "later" in request.form:
        return _status_page(report)
    if not checkback_page.asking(request.form.to_dict()):
        return checkback_page.question(report, check)
    db = get_session()
    if request.form.get("check_back") != str(check.id):
        # Not this report's question (another report's, or one answered before): ask the
        # due one, with nothing recorded.
        return checkback_page.question(report, check)
    form, refused = checkback_page.answer(db, report, check)
    if refused is not None:
        db.rollback()
        return checkback_page.question(report, check, form, 400)
    feeling = check.answer or ""
    db.commit()
    send_soon(current_app._get_current_object())  # type: ignore[attr-defined]
    flash(checkback_page.THANKS.get(feeling, "Thank you for telling us."))
    return _status_page(report)


def _known_school() -> School | None:
    return _find_school((request.view_args or {}).get("slug", ""))


def _rerender_pupil(message: str, status: int) -> Response | None:
    """A refused POST (an old page, a limit): the child's words again, if it is their visit."""
    school = _known_school()
    if school is None:
        return None
    if not _ours(visit.FORMS, "submission"):
        return _render_pupil(school, _pupil_form(school, fresh=True), status, START_AGAIN)
    form = _pupil_form(school)
    form.validate()  # fill in field values; messages shown only for real problems
    form.csrf_token.errors = []
    return _render_pupil(school, form, status, message)


def _rerender_parent(message: str, status: int) -> Response | None:
    school = _known_school()
    if school is None:
        return None
    if not _ours(visit.FORMS, "submission"):
        return _render_parent(school, _parent_form(school, fresh=True), status, START_AGAIN)
    return _render_parent(school, _parent_form(school), status, message)


def _rerender_follow_up(message: str, status: int) -> Response | None:
    """The code typed is shown again only to the visit whose page sent it."""
    if not _ours(visit.PASSES, "once"):
        return make_response(*_code_page(FollowUpForm(formdata=None), status, CODE_AGAIN))
    return make_response(*_code_page(FollowUpForm(), status, message))


RERENDER.update({
    "reporting.pupil_form": _rerender_pupil,
    "reporting.parent_form": _rerender_parent,
    "reporting.follow_up": _rerender_follow_up,
})
