"""Passkeys in the browser (portal.auth.passkeys): a member of staff adds and removes their
own on "Your passkeys", and uses one at the second step of signing in instead of the code.

Each page that asks the browser for a passkey carries its options (and so its challenge)
in the page; the challenge waits in the session until the answer comes back, and is taken
from it then, so an answer is checked against one challenge, once. Without JavaScript the
pages still work: the code from the authenticator app signs in as before."""

from __future__ import annotations

import base64
import time
from datetime import UTC, datetime

from flask import abort, current_app, flash, redirect, render_template, session, url_for
from flask.typing import ResponseReturnValue

from ..db import get_session
from ..security import limiter
from . import passkeys
from .access import ALL_STAFF, allow, public, staff_user
from .forms import OtpForm, PasskeyAddForm, PasskeyRemoveForm, PasskeySignInForm
from .views import _finish, _method, _pending_key, _pending_user, bp, code_page

CHALLENGE_SECONDS = 300
NOT_SIGNED_IN = ("That passkey didn't sign you in. Try it again, or type the code from your "
                 "authenticator app.")


def _party() -> passkeys.Party:
    return passkeys.Party.of(str(current_app.config["PORTAL_BASE_URL"]))


def _keep(name: str, challenge: bytes) -> None:
    session[name] = {"challenge": base64.urlsafe_b64encode(challenge).decode(),
                     "at": time.time()}


def _take(name: str) -> passkeys.Challenge | None:
    """The challenge kept under ``name``, once (it is removed), while it is fresh."""
    kept = session.pop(name, None)
    if not isinstance(kept, dict):
        return None
    try:
        at = float(kept.get("at", 0))
        value = base64.urlsafe_b64decode(str(kept.get("challenge", "")).encode())
    except (TypeError, ValueError):
        return None
    if time.time() - at > CHALLENGE_SECONDS:
        return None
    return passkeys.Challenge(value, datetime.fromtimestamp(at, UTC))


def _page(form: PasskeyAddForm, status: int = 200) -> ResponseReturnValue:
    user = staff_user()
    keys = passkeys.passkeys_of(get_session(), user)
    options, challenge = passkeys.registration(user, _party(), keys)
    _keep("passkey_add", challenge)
    return render_template("auth/passkeys.html", form=form, keys=keys,
                           has_app=bool(user.totp_secret), options=options,
                           most=passkeys.MAX_PASSKEYS), status


@bp.route("/account/passkeys")
@allow(ALL_STAFF)
def passkeys_page() -> ResponseReturnValue:
    return _page(PasskeyAddForm(formdata=None))


@bp.route("/account/passkeys", methods=["POST"])
@limiter.limit("10 per minute")
@allow(ALL_STAFF)
def add_passkey() -> ResponseReturnValue:
    form = PasskeyAddForm()
    challenge = _take("passkey_add")
    if not form.validate_on_submit():
        return _page(form, 400)
    db = get_session()
    try:
        key = passkeys.add(db, staff_user(), _party(), challenge, form.credential.data or "",
                           form.name.data or "", form.otp.data or "")
    except passkeys.WrongCode as error:
        db.rollback()
        form.otp.errors = [str(error)]
        return _page(form, 400)
    except passkeys.PasskeyError as error:
        db.rollback()
        form.form_errors.append(str(error))
        return _page(form, 400)
    db.commit()
    flash(f"Passkey “{key.name}” added. Next time you sign in, use it after your password "
          "instead of the code.")
    return redirect(url_for("auth.passkeys_page"))


@bp.route("/account/passkeys/<int:passkey_id>/remove", methods=["POST"])
@allow(ALL_STAFF)
def remove_passkey(passkey_id: int) -> ResponseReturnValue:
    form = PasskeyRemoveForm()
    if not form.validate_on_submit():
        abort(400)
    db = get_session()
    key = passkeys.remove(db, staff_user(), passkey_id)
    if key is None:
        abort(404)
    db.commit()
    flash(f"Passkey “{key.name}” removed. It no longer signs you in here.")
    return redirect(url_for("auth.passkeys_page"))


def sign_in_options() -> str | None:
    """For the code page: the options asking for one of the pending account's passkeys
    (its challenge kept), or None when it has none."""
    user = _pending_user()
    if user is None:
        return None
    found = passkeys.authentication(get_session(), user, _party())
    if found is None:
        return None
    options, challenge = found
    _keep("passkey_sign_in", challenge)
    return options


@bp.route("/login/passkey", methods=["POST"])
@limiter.limit("5 per minute", key_func=_pending_key)
@public
def passkey_sign_in() -> ResponseReturnValue:
    user = _pending_user()
    if user is None or not user.totp_secret:
        flash("Please sign in again.")
        return redirect(url_for("auth.login"))
    form = PasskeySignInForm()
    challenge = _take("passkey_sign_in")
    db = get_session()
    if form.validate_on_submit() and passkeys.check(db, user, _party(), challenge,
                                                    form.credential.data or ""):
        return _finish(user, _method("passkey"))
    db.rollback()
    return code_page(OtpForm(formdata=None), passkey_error=NOT_SIGNED_IN, status=400)
