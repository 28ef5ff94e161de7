"""The figures pages: ``/staff/figures`` (HTML), ``.csv`` and ``.pdf`` (DESIGN.md contract).

Who sees what: a head teacher and the school's DSL team see their own school, whatever the
parameters say; a trust lead sees every school of their trust side by side with the
trust's totals, or one of them with ``school=<slug>`` (a school of another trust, or no
school, answers 404). Nobody sees report text, names or links to cases here.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask import Blueprint, Response, abort, g, render_template, request
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select

from ..auth.access import allow, staff_user
from ..db import get_session
from ..events import Action
from ..models import FIGURES_ROLES, Event, Role, School, User
from ..overdue import LOCAL
from ..security import client_key, limiter
from . import (
    Figures,
    PeriodError,
    TrustFigures,
    figures_csv,
    grouped,
    parse_period,
    shown_figures,
    terms,
    trust_figures,
)
from .charts import bar_chart
from .model import (
    FEWER,
    SMALL,
    WITHHELD,
    Period,
    recent_terms,
    term_of,
    term_so_far,
    totals_only,
    trust_totals_only,
)

bp = Blueprint("figures", __name__, url_prefix="/staff")

# They cannot read the reports: whole terms only, and a term under way shows its totals
# (model.py's rule 5). The DSL team reads the reports, so chooses any dates.
WHOLE_TERMS = frozenset({Role.HEAD, Role.TRUST_LEAD})


def _today() -> date:
    """Today, read once per request: read twice, a request across midnight could take
    "this term so far" for a finished period and show (and fix) its breakdown (the fourth
    trial's finding 1)."""
    if "figures_today" not in g:
        g.figures_today = datetime.now(UTC).astimezone(LOCAL).date()
    today: date = g.figures_today
    return today


class _Scope:
    """What the signed-in user may see, narrowed by ``school`` for a trust lead."""

    def __init__(self, user: User) -> None:
        db = get_session()
        self.trust = None
        self.school: School | None = None
        self.two_schools = False  # (a school's own DSL or head gets their school)
        if user.role == Role.TRUST_LEAD:
            if user.trust_id is None or user.trust is None:
                abort(404)
            self.trust = user.trust
            # Two schools asked for: the page says so (``_Asked``) before any is looked up.
            asked = request.args.getlist("school")
            self.two_schools = len(asked) > 1
            slug = asked[0].strip() if len(asked) == 1 else ""
            if slug:
                self.school = db.scalar(select(School).where(
                    School.slug == slug[:60], School.trust_id == user.trust_id))
                if self.school is None:
                    abort(404)
        else:
            if user.school is None:
                abort(404)
            self.school = user.school  # the school's own, whatever ``school`` says

    @property
    def slug(self) -> str | None:
        return self.school.slug if self.school is not None else None


def _period(whole_terms: bool) -> tuple[Period | None, str]:
    if any(len(request.args.getlist(name)) > 1 for name in ("from", "to")):
        return None, "Give one date for “from” and one for “to”."
    try:
        return parse_period(request.args.get("from", "")[:20] or None,
                            request.args.get("to", "")[:20] or None, _today(),
                            whole_terms=whole_terms), ""
    except PeriodError as problem:
        return None, str(problem)


def _figures(scope: _Scope, period: Period,
             whole_terms: bool) -> tuple[list[Figures], TrustFigures | None]:
    db = get_session()
    # (a period of theirs that is not a whole term can only be this term so far)
    held = whole_terms and (period.open_on(_today()) or not terms.whole_term(period))
    # a finished whole term, as first shown (rule 6); a term under way beside last year's
    # term as it was kept, if it was (its total alone is shown)
    fixed, kept = whole_terms and not held, held
    if scope.trust is not None and scope.school is None:
        trust = trust_figures(db, scope.trust, period, fixed=fixed, kept=kept)
        if held:
            trust = trust_totals_only(trust)
        return list(trust.schools), trust
    assert scope.school is not None
    each = shown_figures(db, [scope.school], period, fixed=fixed, kept=kept)
    return ([totals_only(f) for f in each] if held else each), None


def _date_type(typed: str) -> str:
    """A date field shows only a real ISO date: anything else the person typed (``2026-13-
    01``, from a link or a tool) would show as an empty field, so it is shown as text, to
    be corrected, with the message above it (the trial's finding 2)."""
    try:
        date.fromisoformat(typed)
    except ValueError:
        return "text" if typed else "date"
    return "date" if len(typed) == 10 else "text"


def _page(by: _Asked, status: int = 200, **context: object) -> ResponseReturnValue:
    today = _today()
    return render_template("figures/page.html", chart=bar_chart, grouped=grouped,
                           date_type=_date_type,
                           FEWER=FEWER, SMALL=SMALL, WITHHELD=WITHHELD,
                           scope=by.scope, whole_terms=by.whole_terms,
                           terms=[term_so_far(today), *recent_terms(today)],
                           term_end=term_of(today).end,
                           **context), status


class _Asked:
    """What the page and its exports are drawn from: who asks, which school(s), the period
    (or, for a period the figures cannot show, the problem that says why, with what was
    typed, to show again)."""

    def __init__(self) -> None:
        self.user = staff_user()
        self.scope = _Scope(self.user)
        self.whole_terms = self.user.role in WHOLE_TERMS
        period, self.problem = _period(self.whole_terms)
        if self.scope.two_schools:
            period, self.problem = None, "Choose one school."
        self.typed = {"from": request.args.get("from", "")[:20],
                      "to": request.args.get("to", "")[:20]}
        self.period = period or term_so_far(_today())
        self.each, self.trust = (([], None) if period is None
                                 else _figures(self.scope, period, self.whole_terms))

    @property
    def shown(self) -> Figures:
        """The one set of figures the page leads with: the school's, or the trust's totals."""
        return self.trust.totals if self.trust is not None else self.each[0]

    def refused(self) -> Response | None:
        if not self.problem:
            return None
        return Response(self.problem + "\n", status=400, mimetype="text/plain")

    def send(self, body: bytes | str, kind: str, mimetype: str) -> Response:
        _exported(self.user, self.scope, self.period, kind)
        name = _filename(self.scope, self.period, kind)
        return Response(body, mimetype=mimetype, headers={
            "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})


@bp.route("/figures")
@allow(FIGURES_ROLES)
def page() -> ResponseReturnValue:
    asked = _Asked()
    if asked.problem:
        return _page(asked, 400, problem=asked.problem, asked=asked.typed, figures=None,
                     trust=None)
    period = asked.period
    shown = _page(asked, figures=asked.shown, trust=asked.trust, problem="", period=period,
                  asked={"from": period.start.isoformat(), "to": period.end.isoformat()})
    _audit(asked.user, asked.scope, period, Action.FIGURES_VIEWED, {})
    return shown


def _exported(user: User, scope: _Scope, period: Period, kind: str) -> None:
    """An export is an audit event: who took which figures out, for which period."""
    _audit(user, scope, period, Action.FIGURES_EXPORTED, {"format": kind})


def _audit(user: User, scope: _Scope, period: Period, action: Action,
           extra: dict[str, str]) -> None:
    """Looking at the figures and taking them out are audit events (P11): who, which
    school, which period; a run of periods a few days apart shows in the trail."""
    db = get_session()
    school_id = scope.school.id if scope.school is not None else None
    db.add(Event.by(user, action, {**extra, "from": period.start.isoformat(),
                                   "to": period.end.isoformat(), "school": scope.slug},
                    school_id=school_id))
    db.commit()


def _filename(scope: _Scope, period: Period, ext: str) -> str:
    name = scope.slug or "trust"
    return f"figures-{name}-{period.start.isoformat()}-to-{period.end.isoformat()}.{ext}"


@bp.route("/figures.csv")
@allow(FIGURES_ROLES)
def csv() -> ResponseReturnValue:
    export = _Asked()
    if (refused := export.refused()) is not None:
        return refused
    trust = export.trust
    rows = [*export.each, trust.totals] if trust is not None else export.each
    return export.send(figures_csv(rows), "csv", "text/csv")


def _staff_key() -> str:
    """The signed-in account (the limit is checked before sign-in is: someone signed out
    is counted by their address, and sent to sign in)."""
    return f"figures-pdf:{current_user.get_id() or client_key()}"


@bp.route("/figures.pdf")
# A PDF takes a second or more of a worker: one account cannot keep the workers busy.
@limiter.limit("20 per minute", key_func=_staff_key)
@allow(FIGURES_ROLES)
def pdf() -> ResponseReturnValue:
    from ..pdf import render_pdf  # WeasyPrint loads only when a PDF is asked for

    export = _Asked()
    if (refused := export.refused()) is not None:
        return refused
    shown = export.shown
    html = render_template(
        "figures/report.pdf.html", figures=shown, trust=export.trust, period=export.period,
        chart=bar_chart, grouped=grouped, FEWER=FEWER, SMALL=SMALL, WITHHELD=WITHHELD,
        exported_by=export.user.name, exported_at=datetime.now(UTC), school_name=shown.scope,
        term_end=term_of(_today()).end)
    return export.send(render_pdf(html), "pdf", "application/pdf")
