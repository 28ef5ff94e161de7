"""Search across the school's reports (portal.search): the page, for the DSL team only."""

from __future__ import annotations

from flask import render_template, request
from flask.typing import ResponseReturnValue

from .. import search
from ..auth.access import READERS, allow, staff_user
from ..db import get_session
from ..vocabulary import SOURCE_LABELS, STATUS_LABELS
from .views import bp


@bp.route("/search")
@allow(READERS)
def search_reports() -> ResponseReturnValue:
    """Every word must match; newest first; a page at a time. Each search is an audit event
    (the write of a GET that the audit trail requires, as viewing a case is)."""
    text = request.args.get("q", "")
    page_arg = request.args.get("page", "1")
    page = int(page_arg) if page_arg.isascii() and page_arg.isdigit() and len(page_arg) < 5 \
        else 1
    if "q" not in request.args:
        return render_template("triage/search.html", q="", results=None, error=None)
    db = get_session()
    try:
        results = search.search(db, staff_user(), text, page)
    except search.SearchError as error:
        return render_template("triage/search.html", q=text[:search.QUERY_LIMIT * 2],
                               results=None, error=str(error)), 400
    db.commit()
    return render_template("triage/search.html", q=text, results=results, error=None,
                           source_labels=SOURCE_LABELS, status_labels=STATUS_LABELS,
                           count_limit=search.COUNT_LIMIT, page_size=search.PAGE_SIZE)
