"""Staff sign-in in two steps (password, then a TOTP code), sign-out, session loading."""

from __future__ import annotations

import hashlib
import hmac
import time
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
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
from flask_login import LoginManager, current_user, login_user, logout_user
from markupsafe import Markup
from sqlalchemy import func, select
from werkzeug.wrappers import Response as BaseResponse

from ..db import get_session
from ..forms import clean_text
from ..models import SsoProvider, User
from ..security import hashed, limiter, network_key, network_login_limits
from . import devices, sessions, twofactor
from .access import ALL_STAFF, allow, landing_for, public, staff_user
from .forms import LoginForm, LogoutForm, OtpForm, SetPasswordForm
from .passwords import verify

bp = Blueprint("auth", __name__, url_prefix="/staff")
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "Please sign in to see that page."
login_manager.session_protection = None  # sessions are checked on the server instead

FAILED = "That email address and password do not match an account. Check them and try again."
WRONG_CODE = "That code did not work. Codes change every 30 seconds and work once."
PENDING_SECONDS = 300  # the password step is good for five minutes


@login_manager.user_loader
def _load_user(token: str) -> User | None:
    db = get_session()
    user = sessions.resume(db, token)
    if user is None:
        db.rollback()
        return None
    db.commit()  # keep the last-seen time (written at most once a minute)
    user.address = request.remote_addr  # audit events record where staff acted from
    return user


def _claimed_account() -> tuple[str, int | None, int]:
    """The email a sign-in try names, its account id (None if unknown) and throttle epoch
    (looked up once per request: every try costs one query, known account or not)."""
    if "claimed_account" not in g:
        email = clean_text(request.form.get("email") or "").lower()[:254]
        row = get_session().execute(select(User.id, User.throttle_epoch).where(
            func.lower(User.email) == email)).first()
        g.claimed_account = (email, row[0] if row else None, row[1] if row else 0)
    claimed: tuple[str, int | None, int] = g.claimed_account
    return claimed


def _trusted_device() -> str | None:
    """This browser's device id for the account being signed in to, if it holds a valid
    device cookie for it (issued when that account signed in here before)."""
    _email, user_id, epoch = _claimed_account()
    return devices.device_for(current_app.config["SECRET_KEY"],
                              request.cookies.get(devices.COOKIE), user_id, epoch)


def _account_key() -> str:
    """Per-account throttle key (SecureDrop: 5 tries / 60 s per user), never the raw email;
    a browser with a valid device cookie for the account has a budget of its own.

    `portal unlock-user` bumps the account's epoch, which starts a fresh count; unknown
    addresses use epoch 0, so they are throttled exactly like known ones."""
    email, _user_id, epoch = _claimed_account()
    device = _trusted_device()
    if device is not None:
        return "acctdev:" + hashed(f"acctdev:{epoch}:{device}")
    return "acct:" + hashed(f"acct:{epoch}:" + hashlib.sha256(email.encode()).hexdigest())


def _failed(response: Response) -> bool:
    """Only a try that did not pass the password step spends the budget."""
    return response.status_code != 302


def _remember_device(response: BaseResponse, user: User) -> BaseResponse:
    """Give this browser (or renew) its device cookie for ``user`` after a full sign-in."""
    value = devices.remember(current_app.config["SECRET_KEY"],
                             request.cookies.get(devices.COOKIE), user.id,
                             user.throttle_epoch)
    response.set_cookie(devices.COOKIE, value, max_age=devices.MAX_AGE, path="/staff",
                        secure=current_app.config["SESSION_COOKIE_SECURE"], httponly=True,
                        samesite="Strict")
    return response


def _pending_key() -> str:
    return "otp:" + hashed(f"otp:{session.get('pending_user', '')}")


def _safe_next(target: str | None, user: User) -> str:
    """The staff page asked for, or the user's own first page (``landing_for``)."""
    if target and target.startswith("/staff") and not urlsplit(target).netloc \
            and "//" not in target:
        return target
    return landing_for(user)


def _pending_user() -> User | None:
    """The account whose password was right a moment ago, waiting for its second factor."""
    user_id, started = session.get("pending_user"), session.get("pending_at", 0)
    if not user_id or time.time() - float(started) > PENDING_SECONDS:
        return None
    user = get_session().get(User, int(user_id))
    if user is None or not user.is_active:
        return None
    # The password that was right must still be the account's: a reset (or a new one set)
    # between the two steps ends the sign-in (issue 18's trial: a pending sign-in survived
    # the office resetting the password)
    if not hmac.compare_digest(str(session.get("pending_key", "")), _password_key(user)):
        return None
    return user


def _password_key(user: User) -> str:
    """A fingerprint of the account's password hash, for the pending sign-in (the session
    cookie is signed but readable: a digest of the salted hash tells nothing)."""
    return hashlib.sha256(f"pending:{user.password_hash}".encode()).hexdigest()[:32]


def _start_pending(user: User, next_url: str | None, *, via: str = "password") -> None:
    """The first step passed (``via`` the password, or the school's sign-in service,
    portal.auth.views_sso): the second is asked for next."""
    session.update(pending_user=user.id, pending_at=time.time(), pending_next=next_url,
                   pending_key=_password_key(user), pending_via=via)


def _method(second: str) -> str:
    """How a sign-in was made, for its event: "totp", or "sso_totp" after the school's
    sign-in service."""
    return f"sso_{second}" if session.get("pending_via") == "sso" else second


def _finish(user: User, method: str) -> ResponseReturnValue:
    """Both factors passed: a brand-new server-side session, then on to the page asked for."""
    db = get_session()
    next_url = _safe_next(session.get("pending_next"), user)
    user.address = request.remote_addr
    if method.startswith("sso"):
        from ..admin import staff

        staff.signed_in_with_school_account(db, user)
    token = sessions.start(db, user, method=method)
    db.commit()
    provider = session.get("sso_provider") if method.startswith("sso") else None
    session.clear()  # a new session at sign-in: nothing from before carries over
    if provider:  # signing out ends the provider's session too (views_sso, logout)
        session["sso_provider"] = provider
    user.session_token = token
    login_user(user, remember=False)
    return _remember_device(redirect(next_url), user)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("5 per minute", key_func=_account_key, methods=["POST"], deduct_when=_failed)
@limiter.limit("30 per minute", methods=["POST"], exempt_when=lambda: _trusted_device() is not None)
# Failed sign-ins from one whole school network, however many device identities its
# browsers take (trial finding 6); a browser where the account signed in is exempt.
@limiter.limit(network_login_limits, key_func=network_key, methods=["POST"],
               deduct_when=_failed, exempt_when=lambda: _trusted_device() is not None)
@public
def login() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(landing_for(staff_user()))
    form = LoginForm()
    if form.validate_on_submit():
        db = get_session()
        email = (form.email.data or "").strip().lower()
        user = db.scalar(select(User).where(func.lower(User.email) == email))
        ok = verify(user.password_hash if user else None, form.password.data or "")
        if user is not None and ok and user.is_active:
            session.clear()
            _start_pending(user, request.args.get("next"))
            if user.totp_secret:
                return redirect(url_for("auth.second_factor"))
            return redirect(url_for("auth.enrol"))
        form.password.errors = [FAILED]
        return render_template("auth/login.html", form=form, sso_offered=_sso_offered()), 200
    return render_template("auth/login.html", form=form, sso_offered=_sso_offered())


def _sso_offered() -> bool:
    """Whether any school or trust here signs in with its own accounts (the link to it)."""
    return get_session().scalar(select(SsoProvider.id).where(
        SsoProvider.enabled.is_(True)).limit(1)) is not None


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.limit("5 per minute", key_func=_pending_key, methods=["POST"])
@public
def second_factor() -> ResponseReturnValue:
    user = _pending_user()
    if user is None or not user.totp_secret:
        flash("Please sign in again.")
        return redirect(url_for("auth.login"))
    form = OtpForm()
    if form.validate_on_submit():
        db = get_session()
        code = form.otp.data or ""
        if twofactor.verify(db, user, code):
            return _finish(user, _method("totp"))
        if twofactor.use_recovery_code(db, user, code):
            flash("You used a recovery code. Each one works once; reset your authenticator "
                  "with your administrator if your phone is lost.")
            return _finish(user, _method("recovery_code"))
        db.rollback()
        form.otp.errors = [WRONG_CODE]
    return code_page(form)


def code_page(form: OtpForm, *, passkey_error: str | None = None,
              status: int = 200) -> ResponseReturnValue:
    """The second step's page: the code, and the pending account's passkeys if it has
    any (portal.auth.views_passkeys, whose answer comes back to this page when it fails)."""
    from . import views_passkeys

    return render_template("auth/second_factor.html", form=form, passkey_error=passkey_error,
                           passkey_options=views_passkeys.sign_in_options()), status


@bp.route("/login/enrol", methods=["GET", "POST"])
@limiter.limit("10 per minute", key_func=_pending_key, methods=["POST"])
@public
def enrol() -> ResponseReturnValue:
    """First sign-in: set up the authenticator app (required for every staff account)."""
    user = _pending_user()
    if user is None or user.totp_secret:
        return redirect(url_for("auth.login"))
    db = get_session()
    # The new secret waits in the session cookie sealed with the data key (the cookie is
    # signed but readable), so showing this page changes nothing in the database.
    secret = twofactor.unseal(user.id, session.get("enrol_secret"))
    if secret is None:
        secret = twofactor.new_secret()
        session["enrol_secret"] = twofactor.seal(user.id, secret)
    form = OtpForm()
    if form.validate_on_submit():
        user.address = request.remote_addr
        codes = twofactor.confirm_enrolment(db, user, secret, form.otp.data or "")
        if codes is not None:
            response = _finish(user, _method("totp_enrolment"))
            page = make_response(render_template(
                "auth/recovery_codes.html", codes=codes,
                next_url=response.location))  # type: ignore[union-attr]
            return _remember_device(page, user)
        form.otp.errors = [WRONG_CODE]
    qr = Markup(twofactor.qr_svg(twofactor.provisioning_uri(user, secret)))  # noqa: S704 - segno's own SVG
    return render_template("auth/enrol.html", form=form, qr=qr,
                           secret=twofactor.grouped(secret))


@bp.route("/invite/<token>", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
@public
def accept_invite(token: str) -> ResponseReturnValue:
    """An invitation's link (portal.admin.staff): set a password, then straight on to the
    authenticator. A used, ended or expired link says so and changes nothing."""
    from ..admin import staff

    db = get_session()
    row = staff.open_link(db, token)
    if row is None:
        return render_template("auth/invite.html", form=None), 404
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            user = staff.accept(db, row, form.new_password.data or "",
                                form.repeat_password.data or "")
        except staff.StaffError as error:
            db.rollback()
            form.new_password.errors = [str(error)]
        else:
            db.commit()
            session.clear()
            if user.totp_secret:  # a reset password: their authenticator stays
                flash("Your new password is set. Sign in with it and a code from your "
                      "authenticator app.")
                return redirect(url_for("auth.login"))
            _start_pending(user, None)
            flash("Your password is set. Now set up the second step of signing in.")
            return redirect(url_for("auth.enrol"))
        return render_template("auth/invite.html", form=form, invite=row), 400
    return render_template("auth/invite.html", form=form, invite=row)


@bp.route("/logout", methods=["GET", "POST"])
@allow(ALL_STAFF)
def logout() -> ResponseReturnValue:
    form = LogoutForm()
    if request.method == "POST" and form.validate_on_submit():
        user = staff_user()
        db = get_session()
        sessions.end(db, user)
        db.commit()
        provider_id = session.get("sso_provider")
        logout_user()
        session.clear()
        if provider_id:
            from . import views_sso

            elsewhere = views_sso.provider_sign_out(int(provider_id))
            if elsewhere:
                return views_sso.leave_for(
                    elsewhere, "You have signed out",
                    "You have signed out of the portal. Now your school account signs out "
                    "too, so nobody at this computer is signed in as you.",
                    "Sign out of your school account")
        flash("You have signed out.")
        return redirect(url_for("auth.login"))
    return render_template("auth/logout.html", form=form)
