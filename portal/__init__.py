"""Tell Us: a reporting portal for schools."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_wtf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from . import crypto, db, errors, evidence, security
from .config import PACKAGE_DIR, Settings, private_dir
from .figures import rollup as _figure_counts  # noqa: F401 - keeps the day counts in step
from .notifications import SmtpSettings

csrf = CSRFProtect()
# The largest id the id columns hold: they are INTEGER, 32 bits on PostgreSQL.
MAX_ID = 2**31 - 1


class DatabaseId(IntegerConverter):
    """``<int:...>`` bounded to what a database integer column holds."""

    def __init__(self, url_map: Any, fixed_digits: int = 0, min: int | None = None,
                 max: int | None = MAX_ID, signed: bool = False) -> None:
        super().__init__(url_map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def create_app(settings: Settings | None = None, **overrides: Any) -> Flask:
    """Build the portal. ``settings`` default to the ``PORTAL_*`` environment."""
    settings = settings or Settings.from_env()
    private_dir(settings.instance_dir)
    app = Flask(
        __name__,
        instance_path=str(settings.instance_dir),
        template_folder=str(PACKAGE_DIR / "templates"),
        static_folder=str(PACKAGE_DIR / "static"),
    )
    # An id in a path is a database integer: one beyond 32 bits is not found (404), not
    # a crash in the database driver (a trial's finding on /staff/cases/<huge>/...).
    app.url_map.converters["int"] = DatabaseId
    app.config.update(
        SECRET_KEY=settings.secret_key,
        # Every page but the two report forms; those raise it for a multipart body to
        # evidence.MAX_REQUEST_BYTES before CSRF protection reads the form (reporting.views.
        # _room_for_evidence).
        MAX_CONTENT_LENGTH=settings.max_content_length,
        # Form fields and parts are bounded too, so a flood of tiny fields can't cost memory.
        MAX_FORM_MEMORY_SIZE=settings.max_content_length,
        MAX_FORM_PARTS=200,
        SESSION_COOKIE_NAME="tellus",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        SESSION_REFRESH_EACH_REQUEST=False,
        WTF_CSRF_TIME_LIMIT=8 * 3600,
        # Flask-WTF's strict HTTPS check wants a Referer, which Referrer-Policy: no-referrer
        # (rightly) withholds; security.check_origin checks the Origin header instead.
        WTF_CSRF_SSL_STRICT=False,
        PORTAL_SETTINGS=settings,
        PORTAL_SCHOOL_NETWORKS=settings.school_networks,
        PORTAL_RATELIMIT_STORAGE_URI=settings.ratelimit_storage_uri,
        PORTAL_RATELIMIT_ENABLED=settings.ratelimit_enabled,
        PORTAL_BASE_URL=settings.base_url,
        PORTAL_SSO_HTTP_LOOPBACK=settings.sso_http_loopback,
        PORTAL_SMTP=SmtpSettings.from_url(settings.smtp_url) if settings.smtp_url else None,
        PORTAL_EVIDENCE_DIR=settings.instance_dir / "evidence",
    )
    app.config.update(overrides)
    if settings.proxy_hops:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=settings.proxy_hops, x_proto=settings.proxy_hops,
            x_host=settings.proxy_hops,
        )

    crypto.install(crypto.load_keyring(settings.instance_dir, settings.data_key))
    # Pictures decoded at once are counted for the whole machine (all gunicorn workers).
    evidence.share_decode_slots(settings.instance_dir / "decode-slots")
    db.init_app(app, settings.database_url)
    # A rule deep inside an operation (telling a concern's author, portal.casework.
    # concern_author) writes links with the portal's address: every session carries it.
    app.extensions["portal.sessionmaker"].configure(
        info={"portal.base_url": app.config["PORTAL_BASE_URL"]})
    csrf.init_app(app)
    security.init_app(app)

    from .admin import bp as admin_bp
    from .auth import bp as auth_bp
    from .auth import login_manager
    from .figures.views import bp as figures_bp
    from .reporting import bp as reporting_bp
    from .triage import bp as triage_bp

    login_manager.init_app(app)
    app.register_blueprint(reporting_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(triage_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(figures_bp)
    errors.init_app(app)
    from . import metrics

    metrics.init_app(app)  # /readyz, and /metrics when PORTAL_METRICS_FROM allows it
    # The report forms state the evidence limits, and their size check (js/evidence.js)
    # reads them from the page.
    app.jinja_env.globals["evidence_limits"] = {
        "files": evidence.MAX_FILES, "file_mb": evidence.MAX_FILE_BYTES // evidence.MB,
        "total_mb": evidence.MAX_TOTAL_BYTES // evidence.MB,
    }

    from .templating import init_app as init_templating

    init_templating(app)
    return app
