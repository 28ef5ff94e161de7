"""Records that leave the portal (issue 16): a case, and a child's whole record, as a PDF a
DSL can take to a strategy meeting, attach to CPOMS or send with a referral.

The anti-bullying policy asks for "a clear and precise account of bullying incidents ...
including ... decisions and actions taken"; KCSIE asks that a child's safeguarding file
goes with them when they change school (outside the trust, this PDF is that file).

Each export is an audit event, recorded once the PDF is made (a failed render records
nothing). Only the DSL team may export (the contract: ``GET /staff/cases/<id>/export.pdf``,
``GET /staff/pupils/<id>/export.pdf``). Every page of the PDF says "Confidential —
exported by NAME at TIME" and "Page N of M" (pdf_base.html).

Other children: the case PDF names a child only where they are a party of the case now.
A pupil linked and later unlinked (often the wrong child, linked by mistake) is "a pupil
since unlinked" in its chronology. The child's PDF names no other child at all, as the
child's page does not.
"""

from __future__ import annotations

from flask import Response, current_app, render_template, request
from flask.typing import ResponseReturnValue
from flask_login import current_user

from .. import checklists, chronology, linking
from ..auth.access import READERS, allow, staff_user
from ..casework import bundle, parents
from ..db import get_session
from ..events import Action
from ..models import Event, Report, utcnow
from ..security import client_key, limiter
from . import case_parts
from . import operations as ops
from .views import _case, _pupil, _school, bp

NOT_LINKED_NOW = "a pupil since unlinked"
NOT_INVOLVED_NOW = "someone removed from the case"


def _key() -> str:
    """The signed-in account (a PDF takes a second or more of a worker)."""
    return f"export-pdf:{current_user.get_id() or client_key()}"


def _pdf(body: bytes, name: str) -> Response:
    return Response(body, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})


def export_names(case: case_parts.CaseRows, events: list[Event]) -> chronology.Names:
    """Who the exported chronology names: the school's staff, and the case's parties as
    they are now; anyone else the events mention is named by what they were, not who."""
    current = {p.id: p for p in case.parties}
    pupils = {p.pupil.id: p.pupil.name for p in case.parties if p.pupil is not None}
    gone = {i: NOT_LINKED_NOW for i in chronology.pupil_ids(events) if i not in pupils}
    return chronology.Names(
        pupils={**gone, **pupils},
        users={u.id: u.name for u in case.staff},
        parties={p.id: (p.label if p.id in current else NOT_INVOLVED_NOW)
                 for p in case.every_party})


# Why someone was unlinked or removed is the DSL's own words, and often names the child
# ("wrong Zain"): the PDF leaves it out, as it leaves out the child (a trial's finding).
REASON_LEFT_OUT = frozenset({Action.PUPIL_UNLINKED, Action.PARTY_REMOVED})


def _exported_line(event: Event, names: chronology.Names) -> chronology.Line:
    line = chronology.render(event, names)
    if event.action in REASON_LEFT_OUT:
        return chronology.Line(line.what, "The reason is kept in the portal.")
    return line


def case_pdf_html(report: Report) -> str:
    """The case's record as the HTML the PDF is made from (no forms: the record only)."""
    db = get_session()
    case = case_parts.CaseRows(db, report)
    events = ops.chronology(db, report)
    names = export_names(case, events)
    return render_template(
        "triage/case_export.pdf.html", report=report, school_name=_school().name,
        exported_by=staff_user().name, exported_at=utcnow(),
        people=case.parties, parents_by_party={
            row.party.id: row for row in parents.for_case(db, report, case.parties)},
        events=[(e, _exported_line(e, names)) for e in events
                if e.action != Action.CASE_VIEWED],
        views=[e for e in events if e.action == Action.CASE_VIEWED],
        who=chronology.who, flags=linking.flags_of(case.parties),
        checklist_titles=checklists.titles(), step_words=checklists.step_words)


@bp.route("/cases/<int:report_id>/export.pdf")
@limiter.limit("20 per minute", key_func=_key)
@allow(READERS)
def export_case(report_id: int) -> ResponseReturnValue:
    from ..pdf import render_pdf  # WeasyPrint loads only when a PDF is asked for

    report = _case(report_id)
    body = render_pdf(case_pdf_html(report))
    db = get_session()
    db.add(Event.by(staff_user(), Action.CASE_EXPORTED, {"format": "pdf"},
                    school_id=report.school_id, report_id=report.id))
    db.commit()
    return _pdf(body, f"case-{report.id}.pdf")


@bp.route("/pupils/<int:pupil_id>/export.pdf")
@limiter.limit("20 per minute", key_func=_key)
@allow(READERS)
def export_pupil(pupil_id: int) -> ResponseReturnValue:
    from ..pdf import render_pdf

    db = get_session()
    user = staff_user()
    child = _pupil(pupil_id)
    school = _school()
    html = render_template(
        "triage/pupil_export.pdf.html", pupil=child, entries=linking.chronology(db, child),
        recurring=child.recurring, school=school, school_name=school.name,
        exported_by=user.name, exported_at=utcnow())
    body = render_pdf(html)
    db.add(Event.by(user, Action.PUPIL_EXPORTED, {"pupil_id": child.id, "format": "pdf"},
                    school_id=child.school_id))
    db.commit()
    return _pdf(body, f"pupil-{child.id}.pdf")


@bp.route("/cases/<int:report_id>/bundle.zip")
@limiter.limit("20 per minute", key_func=_key)
@allow(READERS)
def bundle_case(report_id: int) -> ResponseReturnValue:
    """The evidence bundle, for the agency chosen (``?reason=``, with an optional
    ``reference``); without one, the page that asks, and nothing recorded."""
    from ..pdf import render_pdf

    report = _case(report_id)
    db = get_session()
    reason = request.args.get("reason", "")
    reference = request.args.get("reference", "")
    try:
        made = bundle.make(
            db, report, actor=staff_user(), reason=reason, reference=reference,
            folder=current_app.config["PORTAL_EVIDENCE_DIR"] / str(report.school_id),
            summary_pdf=lambda: render_pdf(case_pdf_html(report)))
    except bundle.BundleRefused as refused:
        db.rollback()
        status = 400 if "asked" in request.args or reason or reference else 200
        return render_template("triage/bundle.html", report=report, problem=str(refused)
                               if status == 400 else "", reasons=bundle.BUNDLE_REASONS,
                               reason=reason, reference=reference[:bundle.REFERENCE_LIMIT * 2],
                               ), status
    db.commit()
    response = Response(made.data, mimetype="application/zip", headers={
        "Content-Disposition": f'attachment; filename="{made.name}"', "Cache-Control": "no-store"})
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
