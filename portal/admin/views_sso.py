"""Signing in with the school's own accounts: the administrator's page (portal.admin.
sso_settings). A school's administrator sets the school's provider; the trust lead sets the
trust's, which every school of the trust can use."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from ..auth import views_sso
from ..auth.access import allow, staff_user
from ..db import get_session
from ..models import Role, School, SsoProvider, Trust
from . import sso_settings
from .forms import SsoProviderForm
from .views import bp


def _scope() -> sso_settings.Scope:
    scope = sso_settings.scope_for(staff_user())
    if scope is None:
        abort(403)
    return scope


def _render(form: SsoProviderForm, provider: SsoProvider | None,
            code: int = 200) -> ResponseReturnValue:
    db = get_session()
    scope = _scope()
    trust_provider = None
    place: School | Trust | None
    if scope.school_id is not None:
        place = db.get(School, scope.school_id)
        if place is not None and place.trust_id is not None:
            trust_provider = sso_settings.provider_of(
                db, sso_settings.Scope(None, place.trust_id))
    else:
        place = db.get(Trust, scope.trust_id)
    return render_template(
        "admin/sso.html", form=form, provider=provider, scope=scope, place=place,
        trust_provider=trust_provider, redirect_uri=views_sso.redirect_uri(),
        after_sign_out=views_sso.after_sign_out()), code


@bp.route("/school/sign-in")
@allow(Role.ADMIN, Role.TRUST_LEAD)
def sso_settings_page() -> ResponseReturnValue:
    provider = sso_settings.provider_of(get_session(), _scope())
    form = SsoProviderForm(formdata=None, obj=provider)
    if provider is not None:
        form.domains.data = "\n".join(provider.domain_list)
    return _render(form, provider)


@bp.route("/school/sign-in", methods=["POST"])
@allow(Role.ADMIN, Role.TRUST_LEAD)
def save_sso_settings() -> ResponseReturnValue:
    db = get_session()
    scope = _scope()
    provider = sso_settings.provider_of(db, scope)
    form = SsoProviderForm()
    if not form.validate_on_submit():
        return _render(form, provider, 400)
    try:
        sso_settings.save(
            db, scope, actor=staff_user(), label=form.label.data or "",
            issuer=form.issuer.data or "", client_id=form.client_id.data or "",
            client_secret=form.client_secret.data or "", domains=form.domains.data or "",
            enabled=bool(form.enabled.data),
            allow_http_loopback=bool(current_app.config.get("PORTAL_SSO_HTTP_LOOPBACK")))
    except sso_settings.SsoSettingsError as error:
        db.rollback()
        field = form._fields.get(error.field)
        if field is None:
            form.form_errors.append(str(error))
        else:
            field.errors = [*field.errors, str(error)]
        return _render(form, sso_settings.provider_of(db, scope), 400)
    db.commit()
    flash("Sign-in settings saved." + (" Staff can now sign in with their school account."
                                       if form.enabled.data else
                                       " Signing in with school accounts is off."))
    return redirect(url_for("admin.sso_settings_page"))
