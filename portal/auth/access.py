"""Who may use which staff route: every staff view declares its roles here, in one place."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort, redirect, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response as WerkzeugResponse

from ..models import DSL_TEAM, Role, User

F = TypeVar("F", bound=Callable[..., Any])

READERS = DSL_TEAM  # "only DSL roles read report text" (portal.models.user.DSL_TEAM)
ALL_STAFF = frozenset(Role)
PUBLIC = frozenset[Role]()

# endpoint function's qualified name -> roles; tests check every staff route has an entry.
DECLARED: dict[str, frozenset[Role]] = {}


def allow(*roles: Role | frozenset[Role]) -> Callable[[F], F]:
    """Let only signed-in staff with one of ``roles`` use the decorated view."""
    allowed: set[Role] = set()
    for item in roles:
        allowed.update(item if isinstance(item, frozenset) else {item})
    frozen = frozenset(allowed)

    def decorate(view: F) -> F:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return sign_in_first()
            if current_user.role not in frozen:
                abort(403)
            return view(*args, **kwargs)

        guarded.allowed_roles = frozen  # type: ignore[attr-defined]
        DECLARED[f"{view.__module__}.{view.__qualname__}"] = frozen
        return guarded  # type: ignore[return-value]

    return decorate


def after_sign_in() -> str:
    """Where sign-in leads on: the page asked for, or for a form sent (a POST, say from a
    page open since before the session ended) a page that opens with GET: the case page for
    a case's forms, else the staff home. (The form's own address answers a GET with 405.)"""
    if request.method in ("GET", "HEAD"):
        return request.path
    report_id = (request.view_args or {}).get("report_id")
    if isinstance(report_id, int):
        return url_for("triage.case", report_id=report_id)
    return url_for("triage.queue")


def landing_for(user: User) -> str:
    """The page a member of staff starts on: the one place that says it. The DSL team and
    staff start on the queue; the administrator on the school's page; the trust lead on
    the trust's figures, and a head on the school's (``figures.page``)."""
    if user.role == Role.ADMIN:
        return url_for("admin.home")
    if user.role in (Role.TRUST_LEAD, Role.HEAD):
        return url_for("figures.page")
    return url_for("triage.queue")


def sign_in_first() -> WerkzeugResponse:
    """Send someone not signed in to sign-in, leading on to ``after_sign_in()``."""
    return redirect(url_for("auth.login", next=after_sign_in()))


def public(view: F) -> F:
    """Mark a route under /staff that needs no sign-in (the login page itself)."""
    view.allowed_roles = PUBLIC  # type: ignore[attr-defined]
    return view


def staff_user() -> User:
    """The signed-in member of staff (only call inside an ``allow``-guarded view)."""
    user: User = current_user._get_current_object()
    return user
