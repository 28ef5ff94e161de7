"""The audit trail for the DSL team (issue 16): ``GET /staff/audit`` (filtered, paged) and
``GET /staff/audit.csv`` (the same rows); reading it is itself an audit event
(portal.audit_view holds the query)."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Response, render_template, request
from flask.typing import ResponseReturnValue

from .. import MAX_ID, audit_view
from ..auth.access import READERS, allow, staff_user
from ..db import get_session
from ..events import Action
from ..forms import as_id
from ..models import Event
from .views import bp


def _asked() -> tuple[audit_view.Asked | None, dict[str, str], str]:
    """The filters from the query string: (checked filters or None, what was typed, the
    problem in words)."""
    typed = {k: request.args.get(k, "").strip()[:40]
             for k in ("case", "pupil", "who", "kind", "from", "to")}
    numbers: dict[str, int | None] = {}
    for key, words in (("case", "a report number"), ("pupil", "a pupil"),
                       ("who", "a member of staff")):
        value = typed[key].lstrip("#")
        if value and (not value.isascii() or not value.isdigit() or int(value) > MAX_ID):
            return None, typed, f"Give {words} as a number, or leave it empty."
        numbers[key] = int(value) if value else None
    if typed["kind"] and typed["kind"] not in audit_view.KINDS:
        return None, typed, "Choose what kind of thing to show."
    days: dict[str, date | None] = {}
    for key in ("from", "to"):
        try:
            days[key] = date.fromisoformat(typed[key]) if typed[key] else None
        except ValueError:
            return None, typed, f"Give the “{key}” day as a date, like 2026-12-01."
    if days["from"] and days["to"] and days["from"] > days["to"]:
        return None, typed, "The “from” day is after the “to” day."
    return audit_view.Asked(report_id=numbers["case"], pupil_id=numbers["pupil"],
                            actor_id=numbers["who"], kind=typed["kind"] or None,
                            start=days["from"], end=days["to"]), typed, ""


def _record(action: Action, typed: dict[str, str], asked: audit_view.Asked) -> None:
    db = get_session()
    user = staff_user()
    db.add(Event.by(user, action, {
        "case": asked.report_id, "pupil": asked.pupil_id, "who": asked.actor_id,
        "kind": asked.kind, "from": asked.start.isoformat() if asked.start else None,
        "to": asked.end.isoformat() if asked.end else None}, school_id=user.school_id))
    db.commit()


@bp.route("/audit")
@allow(READERS)
def audit() -> ResponseReturnValue:
    db = get_session()
    user = staff_user()
    asked, typed, problem = _asked()
    context: dict[str, Any] = {"typed": typed, "problem": problem, "kinds": audit_view.KINDS,
                               "staff": audit_view.staff_choices(db, user.school_id or 0)}
    if asked is None:
        return render_template("triage/audit.html", found=None, **context), 400
    number = request.args.get("page", "1")
    found = audit_view.page(db, user.school_id or 0, asked,
                            min(as_id(number) or 1, 10_000))
    _record(Action.AUDIT_VIEWED, typed, asked)
    return render_template("triage/audit.html", found=found,
                           query={k: v for k, v in typed.items() if v}, **context)


@bp.route("/audit.csv")
@allow(READERS)
def audit_csv() -> ResponseReturnValue:
    db = get_session()
    user = staff_user()
    asked, typed, problem = _asked()
    if asked is None:
        return Response(problem + "\n", status=400, mimetype="text/plain")
    body, cut = audit_view.as_csv(db, user.school_id or 0, asked)
    _record(Action.AUDIT_EXPORTED, typed, asked)
    headers = {"Content-Disposition": 'attachment; filename="audit-trail.csv"',
               "Cache-Control": "no-store"}
    if cut:
        headers["X-Rows-Cut-At"] = str(audit_view.CSV_LIMIT)
    return Response(body, mimetype="text/csv", headers=headers)
