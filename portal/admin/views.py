"""School administration and trust figures."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from sqlalchemy import func, select

from .. import kiosk, linking, priority
from ..auth.access import allow, staff_user
from ..db import get_session
from ..models import DSL_TEAM, Device, Pupil, Role, School, SenStatus, TrustedAdult, User
from . import operations as ops
from .forms import PupilForm, SchoolSettingsForm, TabletForm, ToggleForm, TrustedAdultForm

bp = Blueprint("admin", __name__, url_prefix="/staff")


SETTINGS = ("recurring_count", "recurring_days", "urgent_due_days", "normal_due_days",
            "day_ends_hour", "phase", "exit_url")


def _render_home(form: TrustedAdultForm, code: int = 200,
                 settings: SchoolSettingsForm | None = None) -> ResponseReturnValue:
    user = staff_user()
    db = get_session()
    school = db.get(School, user.school_id)
    if settings is None:
        settings = SchoolSettingsForm(formdata=None, obj=school)
    accounts = db.scalars(select(User).where(User.school_id == user.school_id)
                          .order_by(User.role, User.email)).all()
    adults = db.scalars(select(TrustedAdult).where(TrustedAdult.school_id == user.school_id)
                        .order_by(TrustedAdult.position)).all()
    return render_template("admin/home.html", school=school, accounts=accounts, adults=adults,
                           form=form, toggle=ToggleForm(), settings=settings), code


@bp.route("/school/settings", methods=["POST"])
@allow(Role.ADMIN, Role.DSL)
def save_settings() -> ResponseReturnValue:
    form = SchoolSettingsForm()
    if not form.validate_on_submit():
        return _render_home(TrustedAdultForm(formdata=None), 400, settings=form)
    db = get_session()
    user = staff_user()
    school = db.get(School, user.school_id)
    if school is None:
        abort(404)
    ops.save_settings(db, school, actor=user,
                      values={name: getattr(form, name).data for name in SETTINGS},
                      word_dirs=priority.word_dirs(current_app.instance_path))
    db.commit()
    flash("School settings saved.")
    return redirect(url_for("admin.home"))


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
    """The old trust table's address: the trust's figures are on the figures page now."""
    return redirect(url_for("figures.page"), 301)


ROSTER_ROLES = (Role.ADMIN, DSL_TEAM)


@bp.route("/roster")
@allow(*ROSTER_ROLES)
def roster() -> ResponseReturnValue:
    user = staff_user()
    query = request.args.get("q", "").strip()[:80]
    db = get_session()
    pupils = linking.search_pupils(db, user.school_id or 0, query)
    total = db.scalar(select(func.count()).select_from(Pupil)
                      .where(Pupil.school_id == user.school_id)) or 0
    return render_template("admin/roster.html", pupils=pupils, query=query, total=total)


def _pupil_values(form: PupilForm) -> dict[str, object]:
    return {"upn": form.upn.data, "first_name": form.first_name.data,
            "last_name": form.last_name.data, "date_of_birth": form.date_of_birth.data,
            "year_group": form.year_group.data or "", "form": form.form.data or "",
            "sen_status": SenStatus(form.sen_status.data), "on_roll": form.on_roll.data == "yes"}


@bp.route("/roster/new", methods=["GET", "POST"])
@bp.route("/roster/<int:pupil_id>", methods=["GET", "POST"])
@allow(Role.ADMIN, Role.DSL)
def edit_pupil(pupil_id: int | None = None) -> ResponseReturnValue:
    user = staff_user()
    db = get_session()
    pupil = None
    if pupil_id is not None:
        pupil = db.get(Pupil, pupil_id)
        if pupil is None or pupil.school_id != user.school_id:
            abort(404)
    if request.method == "GET" and pupil is not None:
        form = PupilForm(formdata=None, obj=pupil, sen_status=pupil.sen_status.value,
                         on_roll="yes" if pupil.on_roll else "no")
    else:
        form = PupilForm(**({} if request.method == "POST" else {"sen_status": "N",
                                                                  "on_roll": "yes"}))
    school = db.get(School, user.school_id)
    if school is None:
        abort(404)
    form.year_group.offer(school.phase, keep=pupil.year_group if pupil else "")
    if form.validate_on_submit():
        try:
            saved = ops.save_pupil(db, school, actor=user, pupil=pupil,
                                   values=_pupil_values(form))
        except ops.DuplicatePupil as error:
            db.rollback()
            form.upn.errors = [str(error)]
        else:
            db.commit()
            flash(f"{saved.name} is saved on the roster.")
            return redirect(url_for("admin.roster", q=saved.upn))
    return render_template("admin/pupil_form.html", form=form, pupil=pupil), \
        400 if form.errors else 200


@bp.route("/school/tablets", methods=["GET", "POST"])
@allow(Role.ADMIN, Role.DSL)
def tablets() -> ResponseReturnValue:
    """Enrol this browser as a kiosk tablet for the school, and see or revoke the others."""
    user = staff_user()
    db = get_session()
    school = db.get(School, user.school_id)
    if school is None:
        abort(404)
    form = TabletForm()
    if form.validate_on_submit():
        _device, cookie = kiosk.enrol(db, school, actor=user, label=form.label.data or "",
                                      secret_key=current_app.config["SECRET_KEY"])
        db.commit()
        flash(f"This browser is now a Tell Us tablet for {school.name}. Sign out, then hand it "
              "to pupils: it opens on the pupil form and clears itself between children.")
        response = redirect(url_for("admin.tablets"))
        response.set_cookie(kiosk.COOKIE, cookie, max_age=kiosk.COOKIE_AGE, httponly=True,
                            samesite="Strict", secure=current_app.config["SESSION_COOKIE_SECURE"])
        return response
    devices = db.scalars(select(Device).where(Device.school_id == school.id)
                         .order_by(Device.enrolled_at.desc())).all()
    return render_template("admin/tablets.html", form=form, devices=devices, school=school,
                           toggle=ToggleForm()), 400 if form.errors else 200


@bp.route("/school/tablets/<int:device_id>/revoke", methods=["POST"])
@allow(Role.ADMIN, Role.DSL)
def revoke_tablet(device_id: int) -> ResponseReturnValue:
    user = staff_user()
    db = get_session()
    device = db.get(Device, device_id)
    if device is None or device.school_id != user.school_id or device.revoked_at is not None:
        abort(404)
    if not ToggleForm().validate_on_submit():
        abort(400)
    kiosk.revoke(db, device, actor=user)
    db.commit()
    flash(f"“{device.label}” is no longer a Tell Us tablet.")
    return redirect(url_for("admin.tablets"))
