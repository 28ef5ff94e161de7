"""Staff sign-in, sign-out and session loading."""

from __future__ import annotations

import hashlib
from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import LoginManager, current_user, login_user, logout_user
from sqlalchemy import func, select

from ..db import get_session
from ..models import Event, User
from ..security import hashed, limiter
from . import sessions
from .access import ALL_STAFF, allow, public, staff_user
from .forms import LoginForm, LogoutForm
from .passwords import verify

bp = Blueprint("auth", __name__, url_prefix="/staff")
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "Please sign in to see that page."
login_manager.session_protection = None  # sessions are checked on the server instead

FAILED = "That email address and password do not match an account. Check them and try again."


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


def _account_key() -> str:
    """Per-account throttle key (SecureDrop: 5 tries / 60 s per user), never the raw email."""
    email = (request.form.get("email") or "").strip().lower()
    return "acct:" + hashed("acct:" + hashlib.sha256(email.encode()).hexdigest())


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/staff") and not urlsplit(target).netloc and "//" not in target:
        return target
    return url_for("triage.queue")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("5 per minute", key_func=_account_key, methods=["POST"])
@limiter.limit("30 per minute", methods=["POST"])
@public
def login() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(url_for("triage.queue"))
    form = LoginForm()
    if form.validate_on_submit():
        db = get_session()
        email = (form.email.data or "").strip().lower()
        user = db.scalar(select(User).where(func.lower(User.email) == email))
        ok = verify(user.password_hash if user else None, form.password.data or "")
        if user is not None and ok and user.is_active:
            token = sessions.start(db, user)
            user.address = request.remote_addr
            db.add(Event.by(user, school_id=user.school_id, action="staff.login"))
            db.commit()
            next_url = _safe_next(request.args.get("next"))
            session.clear()  # a new session at sign-in: nothing from before carries over
            user.session_token = token
            login_user(user, remember=False)
            return redirect(next_url)
        form.password.errors = [FAILED]
        return render_template("auth/login.html", form=form), 200
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["GET", "POST"])
@allow(ALL_STAFF)
def logout() -> ResponseReturnValue:
    form = LogoutForm()
    if request.method == "POST" and form.validate_on_submit():
        user = staff_user()
        db = get_session()
        sessions.end(db, user.session_token)
        db.add(Event.by(user, school_id=user.school_id, action="staff.logout"))
        db.commit()
        logout_user()
        session.clear()
        flash("You have signed out.")
        return redirect(url_for("auth.login"))
    return render_template("auth/logout.html", form=form)
