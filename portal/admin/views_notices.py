"""The school's contacts that policy steps ask to be informed (add, edit, stop using),
and which staff account each trusted adult has. Administrators only."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from ..auth.access import allow, staff_user
from ..casework import notices
from ..db import get_session
from ..models import CONTACT_ROLE_LABELS, Role, School, SchoolContact, TrustedAdult, User
from .forms import ToggleForm
from .forms_notices import AdultAccountForm, ContactForm
from .views import bp

NO_ACCOUNT = "none"


def _school() -> School:
    school = get_session().get(School, staff_user().school_id)
    if school is None:
        abort(404)
    return school


def _contact(contact_id: int) -> SchoolContact:
    contact = get_session().get(SchoolContact, contact_id)
    if contact is None or contact.school_id != staff_user().school_id:
        abort(404)
    return contact


def _adult(adult_id: int) -> TrustedAdult:
    adult = get_session().get(TrustedAdult, adult_id)
    if adult is None or adult.school_id != staff_user().school_id:
        abort(404)
    return adult


def _account_choices(school: School) -> dict[str, str]:
    return {NO_ACCOUNT: "No account", **{str(u.id): f"{u.name} ({u.email})" for u in
                                         notices.adult_accounts(get_session(), school.id)}}


def _render(form: ContactForm | None = None, code: int = 200,
            refused: tuple[int, AdultAccountForm] | None = None) -> ResponseReturnValue:
    db = get_session()
    school = _school()
    adults = list(db.scalars(select(TrustedAdult).where(TrustedAdult.school_id == school.id)
                             .order_by(TrustedAdult.position)))
    choices = _account_choices(school)
    account_forms = {}
    for adult in adults:
        if refused and refused[0] == adult.id:
            account_forms[adult.id] = refused[1]
        else:
            account_forms[adult.id] = AdultAccountForm(
                formdata=None, account=str(adult.user_id) if adult.user_id else NO_ACCOUNT)
        account_forms[adult.id].account.choices = choices
    users = {u.id: u for u in db.scalars(select(User).where(User.school_id == school.id))}
    return render_template(
        "admin/contacts.html", school=school, contacts=notices.contacts(db, school.id),
        form=form or ContactForm(formdata=None), toggle=ToggleForm(), adults=adults,
        account_forms=account_forms, users=users, role_labels=CONTACT_ROLE_LABELS), code


@bp.route("/school/contacts")
@allow(Role.ADMIN)
def contacts() -> ResponseReturnValue:
    return _render()


@bp.route("/school/contacts", methods=["POST"])
@allow(Role.ADMIN)
def add_contact() -> ResponseReturnValue:
    form = ContactForm()
    if not form.validate_on_submit():
        return _render(form, 400)
    db = get_session()
    try:
        contact = notices.add_contact(db, _school(), actor=staff_user(),
                                      name=form.name.data or "", role=form.role.data or "",
                                      email=form.email.data or "")
    except notices.ContactError as error:
        db.rollback()
        form.form_errors.append(str(error))
        return _render(form, 400)
    db.commit()
    flash(f"{contact.name} is now a school contact.")
    return redirect(url_for("admin.contacts"))


@bp.route("/school/contacts/<int:contact_id>", methods=["GET", "POST"])
@allow(Role.ADMIN)
def edit_contact(contact_id: int) -> ResponseReturnValue:
    contact = _contact(contact_id)
    form = ContactForm() if request.method == "POST" else ContactForm(formdata=None,
                                                                      obj=contact)
    if form.validate_on_submit():
        db = get_session()
        try:
            notices.edit_contact(db, contact, actor=staff_user(), name=form.name.data or "",
                                 role=form.role.data or "", email=form.email.data or "")
        except notices.ContactError as error:
            db.rollback()
            form.form_errors.append(str(error))
        else:
            db.commit()
            flash(f"{contact.name} is saved.")
            return redirect(url_for("admin.contacts"))
    return render_template("admin/contact_form.html", form=form, contact=contact), \
        400 if form.errors or form.form_errors else 200


@bp.route("/school/contacts/<int:contact_id>/active", methods=["POST"])
@allow(Role.ADMIN)
def toggle_contact(contact_id: int) -> ResponseReturnValue:
    contact = _contact(contact_id)
    if not ToggleForm().validate_on_submit():
        abort(400)
    db = get_session()
    notices.set_contact_active(db, contact, actor=staff_user(), active=not contact.active)
    db.commit()
    flash(f"{contact.name} is {'in use again' if contact.active else 'no longer offered'}.")
    return redirect(url_for("admin.contacts"))


@bp.route("/school/adults/<int:adult_id>/account", methods=["POST"])
@allow(Role.ADMIN)
def link_adult(adult_id: int) -> ResponseReturnValue:
    adult = _adult(adult_id)
    form = AdultAccountForm()
    form.account.choices = _account_choices(_school())
    if form.validate_on_submit():
        db = get_session()
        user = None if form.account.data == NO_ACCOUNT else db.get(User, int(form.account.data))
        try:
            notices.link_adult_account(db, adult, actor=staff_user(), user=user)
        except notices.ContactError as error:
            db.rollback()
            form.form_errors.append(str(error))
        else:
            db.commit()
            flash(f"{adult.name}: {'account linked' if user else 'no account linked'}.")
            return redirect(url_for("admin.contacts", _anchor="adult-accounts"))
    return _render(None, 400, refused=(adult.id, form))
