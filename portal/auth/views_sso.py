"""Signing in with the school's own accounts (OpenID Connect, portal.auth.sso): the email
first, then the school's or trust's sign-in service, then back here to the account.

Where the provider asserts a second factor, that sign-in is whole; where it does not, the
portal asks for its own second step, exactly as after a password (portal.auth.views)."""

from __future__ import annotations

import logging

from flask import (
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user

from ..db import get_session
from ..events import Action
from ..models import Event, SsoProvider
from ..security import limiter
from . import sso
from .access import landing_for, public, staff_user
from .forms import SsoStartForm
from .views import _finish, _start_pending, bp

log = logging.getLogger("portal.sso")

NO_PROVIDER = ("Your school hasn't set up signing in with school accounts for this address. "
               "Sign in with your email address and password instead.")


def _loopback() -> bool:
    return bool(current_app.config.get("PORTAL_SSO_HTTP_LOOPBACK"))


def _absolute(endpoint: str) -> str:
    return str(current_app.config["PORTAL_BASE_URL"]).rstrip("/") + url_for(endpoint)


def redirect_uri() -> str:
    """The address the provider sends people back to: what the school's IT registers
    there (shown on the administrator's sign-in page)."""
    return _absolute("auth.sso_callback")


def after_sign_out() -> str:
    """Where the provider's sign-out page comes back to: the portal's sign-in page."""
    return _absolute("auth.login")


@bp.route("/login/sso", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
@public
def sso_start() -> ResponseReturnValue:
    if current_user.is_authenticated:  # as the password page: signed in already
        return redirect(landing_for(staff_user()))
    form = SsoStartForm()
    if form.validate_on_submit():
        db = get_session()
        email = (form.email.data or "").strip()
        provider = sso.provider_for(db, email)
        if provider is None:
            form.email.errors = [NO_PROVIDER]
            return render_template("auth/sso_start.html", form=form), 400
        try:
            url, flow = sso.begin(provider, email, redirect_uri(),
                                  allow_http_loopback=_loopback())
        except sso.SsoError as error:
            form.email.errors = [str(error)]
            return render_template("auth/sso_start.html", form=form), 502
        session.clear()  # nothing of an earlier sign-in carries over
        session["sso_flow"] = flow
        session["sso_next"] = request.args.get("next")
        return leave_for(url, "Going to your school's sign-in",
                         "Your school's sign-in page is opening. Sign in there, and you come "
                         "back here.", "Continue to your school's sign-in")
    return render_template("auth/sso_start.html", form=form), 400 if form.errors else 200


@bp.route("/login/sso/callback")
@limiter.limit("20 per minute")
@public
def sso_callback() -> ResponseReturnValue:
    db = get_session()
    flow = session.pop("sso_flow", None)
    next_url = session.pop("sso_next", None)
    args = {key: str(value)[:4096] for key, value in request.args.items()}
    try:
        signed = sso.finish(db, flow, args, redirect_uri(), allow_http_loopback=_loopback())
    except sso.SsoError as error:
        db.rollback()
        _refused(flow, error.reason)
        if error.reason == "no_sign_in":
            # Nothing under way in this browser (Back or Reload after signing in, a link
            # opened elsewhere): the sign-in page, saying so, is where to start again.
            flash(str(error))
            return redirect(url_for("auth.login"))
        return render_template("auth/sso_refused.html", message=str(error)), 403
    session.clear()
    session["sso_provider"] = signed.provider.id
    if signed.second_factor:
        session["pending_next"] = next_url
        return _finish(signed.user, "sso_mfa")
    _start_pending(signed.user, next_url, via="sso")
    if signed.user.totp_secret:
        return redirect(url_for("auth.second_factor"))
    return redirect(url_for("auth.enrol"))


def leave_for(url: str, title: str, message: str, link: str) -> ResponseReturnValue:
    """A page that goes on to ``url`` at the provider (templates/auth/sso_leave.html says
    why this is not a redirect), kept by no cache: its address carries the sign-in's state."""
    response = make_response(render_template("auth/sso_leave.html", url=url, title=title,
                                             message=message, link=link))
    response.headers["Cache-Control"] = "no-store"
    return response


def _refused(flow: object, reason: str) -> None:
    """A refused sign-in through a provider: in the log and, where the provider is known,
    in its school's audit trail (the reason only: no address, name or account)."""
    log.warning("sso: a sign-in was refused (%s)", reason)
    provider_id = flow.get("provider") if isinstance(flow, dict) else None
    provider = get_session().get(SsoProvider, int(provider_id)) if provider_id else None
    if provider is None:
        return
    db = get_session()
    db.add(Event.new(Action.SSO_REFUSED, {"reason": reason, "provider_id": provider.id},
                     school_id=provider.school_id))
    db.commit()


def provider_sign_out(provider_id: int) -> str | None:
    """Where signing out goes on to end the provider's session too (its sign-out page
    comes back to the portal's sign-in page), or None."""
    provider = get_session().get(SsoProvider, provider_id)
    if provider is None or not provider.enabled:
        return None
    return sso.logout_url(provider, after_sign_out(), allow_http_loopback=_loopback())
