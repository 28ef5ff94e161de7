"""Friendly error pages that keep the headers, and keep a reporter's words where possible."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import (
    Flask,
    Response,
    current_app,
    make_response,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError, RequestEntityTooLarge
from werkzeug.wrappers import Response as WerkzeugResponse

from . import evidence
from .auth.access import sign_in_first

log = logging.getLogger(__name__)

# Endpoints whose form is shown again, with what was typed, when a request is refused.
# Each callable takes the message to show and the status, and returns the page.
Rerender = Callable[[str, int], Response | None]
RERENDER: dict[str, Rerender] = {}

MESSAGES = {
    400: ("Something went wrong with that request", "Please go back and try again."),
    403: ("You can't see this page", "Your account does not have access to this page."),
    404: ("We can't find that page", "Check the address, or go back to the start."),
    405: ("That didn't work", "Please go back and use the buttons on the page."),
    413: ("That was too big to send",
          "Please go back and make it shorter, or send fewer or smaller files."),
    429: ("Please wait a moment",
          "Lots of messages have been sent from here. Please wait a minute and try again."),
    500: ("Sorry, something went wrong on our side",
          "Nothing you did caused this. Please try again, or tell an adult you trust."),
}

# A report form's body over the hard cap is refused before any of it is read, so there are
# no words to show again: say so plainly, and what to do.
TOO_BIG_WITH_FILES = (
    "Your pictures were too big to send",
    f"Nothing was sent yet. All your pictures together must be smaller than "
    f"{evidence.MAX_TOTAL_BYTES // evidence.MB} MB. Please go back, take some pictures off "
    "(or choose smaller ones), and press Send again. If your words have gone, please write "
    "them again, or tell an adult you trust.",
)

CSRF_MESSAGE = ("This page was open for a long time, so we could not send it yet. "
                "Everything you wrote is still here. Please press the button again.")

# Staff pages (everything under /staff) in staff words and the staff layout: no quick exit,
# no Childline footer, nothing that speaks to a pupil (the words above are theirs).
STAFF_MESSAGES = {
    **MESSAGES,
    400: ("That could not be saved", "Nothing was saved. Go back to the page and try again."),
    413: ("That was too long to save",
          "Nothing was saved: what was sent was over the size this portal accepts in one go, "
          "so it was refused before it was read, and the text you typed was not kept. Go "
          "back to the case, shorten it (or save it in parts), then press the button again."),
    429: ("Please wait a moment",
          "Too many requests came from here in a short time. Wait a minute, then try again."),
    500: ("Sorry, something went wrong on our side",
          "Nothing you did caused this, and what you sent may not have been saved. Check the "
          "case, then try again."),
}
STAFF_CSRF_MESSAGE = ("This page had expired or came from another browser: nothing was saved. "
                      "Press the button again.")


def staff_page() -> bool:
    """Whether this request is for a staff page (they have their own layout and words)."""
    return request.path == "/staff" or request.path.startswith("/staff/")


def _posted_args() -> dict[str, Any]:
    """The URL's values when only a POST matches it (a form's address opened with GET)."""
    try:
        _endpoint, args = current_app.url_map.bind_to_environ(request.environ).match(
            method="POST")
    except HTTPException:
        return {}
    return dict(args)


def _page(status: int, title: str, text: str) -> Response:
    if not staff_page():
        return make_response(
            render_template("errors/error.html", title=title, text=text, status=status), status)
    # A refused case form links back to its case (a page that opens with GET).
    report_id = (request.view_args or _posted_args()).get("report_id")
    back = url_for("triage.case", report_id=report_id) if isinstance(report_id, int) else None
    return make_response(render_template("errors/staff_error.html", title=title, text=text,
                                         status=status, back=back), status)


def rerender_or_page(status: int, message: str | None = None) -> Response:
    """The form again with the person's words, when the endpoint has one; else an error page."""
    if request.method == "POST" and request.endpoint in RERENDER and status != 404:
        try:
            messages = STAFF_MESSAGES if staff_page() else MESSAGES
            page = RERENDER[request.endpoint](message or messages[status][1], status)
        except RequestEntityTooLarge:
            page = None  # the body was refused unread: there are no words to show again
        except Exception:  # the form itself failed: fall back to the plain page
            log.exception("could not show the form again after a %s", status)
            page = None
        if page is not None:
            return page
    messages = STAFF_MESSAGES if staff_page() else MESSAGES
    title, text = messages.get(status, messages[400])
    if status == 413 and request.max_content_length == evidence.MAX_REQUEST_BYTES \
            and (request.content_length or 0) > evidence.MAX_REQUEST_BYTES:
        title, text = TOO_BIG_WITH_FILES  # a report form, with files over the hard cap
    return _page(status, title, message or text)


def _needs_sign_in() -> bool:
    """A staff route that needs a signed-in member of staff, asked by nobody signed in."""
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, "allowed_roles", None)) and not current_user.is_authenticated


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(_error: CSRFError) -> Response | WerkzeugResponse:
        if staff_page() and _needs_sign_in():
            # Signed out (in another tab, say): signing out takes the token's secret with the
            # session, so the token fails first; "press the button again" would fail for
            # ever. Ask for sign-in, as the route itself would, leading back to a GET page.
            return sign_in_first()
        return rerender_or_page(400, STAFF_CSRF_MESSAGE if staff_page() else CSRF_MESSAGE)

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> Response:
        status = error.code or 500
        response = rerender_or_page(status if status in MESSAGES else 400)
        response.status_code = status
        if status == 429 and error.get_response().headers.get("Retry-After"):
            response.headers["Retry-After"] = error.get_response().headers["Retry-After"]
        if status == 405:
            allowed = error.get_response().headers.get("Allow")
            if allowed:
                response.headers["Allow"] = allowed
        return response

    @app.errorhandler(InternalServerError)
    def _internal(_error: InternalServerError) -> Response:
        # A failed statement leaves the request's session unusable until rolled back, and
        # the staff page's header reads the signed-in account: without this the error page
        # itself failed, and the person got a bare "Internal Server Error"
        from .db import get_session

        try:
            get_session().rollback()
        except Exception:  # noqa: BLE001 - the page must still be shown
            log.exception("could not roll back before the error page")
        title, text = (STAFF_MESSAGES if staff_page() else MESSAGES)[500]
        return _page(500, title, text)
