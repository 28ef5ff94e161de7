"""Staff accounts in the browser (issue 18; the rules are in portal.admin.staff): the list at
``/staff/school/staff`` with when each account last signed in, inviting by email, changing
a role, switching an account off and on, a new link, and resetting a lost second step. For
the school's administrator and its DSL."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from sqlalchemy.exc import IntegrityError
from wtforms import EmailField, SelectField, StringField

from ..auth.access import allow, staff_user
from ..db import get_session
from ..forms import clean_text
from ..models import Role, User
from ..models.user import ROLE_LABELS
from . import staff
from .views import bp
from .views_notices import _school

RUNNERS = (Role.ADMIN, Role.DSL)
ROLE_CHOICES = {r.value: ROLE_LABELS[r] for r in staff.SCHOOL_ROLES}


class InviteForm(FlaskForm):
    invite_email = EmailField("Their school email address", filters=[clean_text])
    invite_name = StringField("Their name, as colleagues know them", filters=[clean_text])
    invite_role = SelectField("Role", choices=ROLE_CHOICES, validate_choice=False)


class RoleForm(FlaskForm):
    role = SelectField("Role", choices=ROLE_CHOICES, validate_choice=False)


class ConfirmForm(FlaskForm):
    """A button with only its CSRF token."""


def _account(user_id: int) -> User:
    try:
        return staff.of_school(get_session(), staff_user().school_id or 0, user_id)
    except staff.NotFound:
        abort(404)


def _page(code: int = 200, invite_form: InviteForm | None = None,
          problem: tuple[int, str] | None = None, **extra: Any) -> ResponseReturnValue:
    db = get_session()
    school = _school()
    rows = staff.listing(db, school.id)
    role_forms = {row.user.id: RoleForm(formdata=None, prefix=f"u{row.user.id}",
                                        role=row.user.role.value) for row in rows}
    return render_template(
        "admin/staff.html", school=school, rows=rows,
        invite_form=invite_form or InviteForm(formdata=None, invite_role=Role.STAFF.value),
        role_forms=role_forms, confirm=ConfirmForm(), problem=problem,
        invite_hours=staff.INVITE_HOURS, me=staff_user(), **extra), code


@bp.route("/school/staff")
@allow(*RUNNERS)
def staff_accounts() -> ResponseReturnValue:
    return _page()


@bp.route("/school/staff", methods=["POST"])
@allow(*RUNNERS)
def invite_staff() -> ResponseReturnValue:
    form = InviteForm()
    if form.validate_on_submit():
        db = get_session()
        try:
            user = staff.invite(db, _school(), actor=staff_user(),
                                email=form.invite_email.data or "",
                                name=form.invite_name.data or "",
                                role=form.invite_role.data or "",
                                base_url=current_app.config["PORTAL_BASE_URL"])
        except staff.StaffError as error:
            db.rollback()
            form.form_errors.append(str(error))
        except IntegrityError:  # the same address sent twice at once, on two app servers
            db.rollback()
            form.form_errors.append("That email address can't be used for a new account: "
                                    "someone has it already.")
        else:
            db.commit()
            flash(f"Invitation sent to {user.email}. The link works once, for "
                  f"{staff.INVITE_HOURS} hours.")
            return redirect(url_for("admin.staff_accounts"))
    elif not form.form_errors:
        form.form_errors.append("The page had expired: send it again.")
    return _page(400, invite_form=form)


def _change(user_id: int, form: FlaskForm, change: Any, done: str) -> ResponseReturnValue:
    user = _account(user_id)
    if form.validate_on_submit():
        db = get_session()
        try:
            change(db, user)
        except staff.StaffError as error:
            db.rollback()
            return _page(400, problem=(user.id, str(error)))
        db.commit()
        flash(done.format(name=user.name))
        return redirect(url_for("admin.staff_accounts", _anchor=f"account-{user.id}"))
    return _page(400, problem=(user.id, "The page had expired: send it again."))


@bp.route("/school/staff/<int:user_id>/role", methods=["POST"])
@allow(*RUNNERS)
def change_staff_role(user_id: int) -> ResponseReturnValue:
    form = RoleForm(prefix=f"u{user_id}")
    return _change(user_id, form, lambda db, user: staff.change_role(
        db, user, actor=staff_user(), role=form.role.data or ""), "{name}'s role changed.")


@bp.route("/school/staff/<int:user_id>/disable", methods=["POST"])
@allow(*RUNNERS)
def disable_staff(user_id: int) -> ResponseReturnValue:
    return _change(user_id, ConfirmForm(), lambda db, user: staff.disable(
        db, user, actor=staff_user()),
        "{name}'s account is switched off: they were signed out everywhere.")


@bp.route("/school/staff/<int:user_id>/enable", methods=["POST"])
@allow(*RUNNERS)
def enable_staff(user_id: int) -> ResponseReturnValue:
    return _change(user_id, ConfirmForm(), lambda db, user: staff.enable(
        db, user, actor=staff_user()), "{name}'s account is switched on again.")


@bp.route("/school/staff/<int:user_id>/reset-second-step", methods=["POST"])
@allow(*RUNNERS)
def reset_staff_second_step(user_id: int) -> ResponseReturnValue:
    return _change(user_id, ConfirmForm(), lambda db, user: staff.reset_second_step(
        db, user, actor=staff_user()),
        "{name}'s second step is reset: they set up their authenticator again when they "
        "next sign in.")


@bp.route("/school/staff/<int:user_id>/reset-password", methods=["POST"])
@allow(*RUNNERS)
def reset_staff_password(user_id: int) -> ResponseReturnValue:
    return _change(user_id, ConfirmForm(), lambda db, user: staff.reset_password(
        db, _school(), user, actor=staff_user(),
        base_url=current_app.config["PORTAL_BASE_URL"]),
        "{name}'s password is reset: they were signed out everywhere, and a link to set a "
        "new one was sent to their email.")


@bp.route("/school/staff/<int:user_id>/send-link", methods=["POST"])
@allow(*RUNNERS)
def resend_staff_link(user_id: int) -> ResponseReturnValue:
    return _change(user_id, ConfirmForm(), lambda db, user: staff.send_again(
        db, _school(), user, actor=staff_user(),
        base_url=current_app.config["PORTAL_BASE_URL"]),
        "A new link was sent to {name}; the old one no longer works.")


__all__ = ["ConfirmForm", "InviteForm", "RoleForm"]
