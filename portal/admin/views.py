"""School administration and trust figures."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from ..auth.access import allow, staff_user
from ..db import get_session
from ..models import Role, School, TrustedAdult, User
from . import operations as ops
from .forms import ToggleForm, TrustedAdultForm

bp = Blueprint("admin", __name__, url_prefix="/staff")


def _render_home(form: TrustedAdultForm, code: int = 200) -> ResponseReturnValue:
    user = staff_user()
    db = get_session()
    school = db.get(School, user.school_id)
    accounts = db.scalars(select(User).where(User.school_id == user.school_id)
                          .order_by(User.role, User.email)).all()
    adults = db.scalars(select(TrustedAdult).where(TrustedAdult.school_id == user.school_id)
                        .order_by(TrustedAdult.position)).all()
    return render_template("admin/home.html", school=school, accounts=accounts, adults=adults,
                           form=form, toggle=ToggleForm()), code


@bp.route("/school")
@allow(Role.ADMIN, Role.DSL)
def home() -> ResponseReturnValue:
    return _render_home(TrustedAdultForm(formdata=None))


@bp.route("/school/adults", methods=["POST"])
@allow(Role.ADMIN, Role.DSL)
def add_adult() -> ResponseReturnValue:
    form = TrustedAdultForm()
    if not form.validate_on_submit():
        return _render_home(form, 400)
    db = get_session()
    user = staff_user()
    school = db.get(School, user.school_id)
    if school is None:
        abort(404)
    ops.add_trusted_adult(db, school, actor=user, name=form.name.data or "",
                          description=form.description.data or "")
    db.commit()
    flash(f"{form.name.data} is now on the pupil form.")
    return redirect(url_for("admin.home"))


@bp.route("/school/adults/<int:adult_id>/toggle", methods=["POST"])
@allow(Role.ADMIN, Role.DSL)
def toggle_adult(adult_id: int) -> ResponseReturnValue:
    db = get_session()
    user = staff_user()
    adult = db.get(TrustedAdult, adult_id)
    if adult is None or adult.school_id != user.school_id:
        abort(404)
    if not ToggleForm().validate_on_submit():
        abort(400)
    ops.set_trusted_adult_active(db, adult, actor=user, active=not adult.active)
    db.commit()
    flash(f"{adult.name} is {'shown' if adult.active else 'hidden'} on the pupil form.")
    return redirect(url_for("admin.home"))


@bp.route("/trust")
@allow(Role.TRUST_LEAD)
def trust() -> ResponseReturnValue:
    user = staff_user()
    if user.trust_id is None:
        abort(404)
    figures = ops.trust_figures(get_session(), user.trust_id)
    return render_template("admin/trust.html", figures=figures, trust=user.trust)
