"""School administration (accounts, trusted adults) and trust-wide figures: no report text."""

from . import (
    views_notices,  # noqa: F401, E402  (the school contacts page)
    views_roster_import,  # noqa: F401, E402  (the roster upload, issue 18)
    views_sso,  # noqa: F401, E402  (signing in with the school's accounts, issue 18)
    views_staff,  # noqa: F401, E402  (staff accounts in the browser, issue 18)
)
from .views import bp

__all__ = ["bp"]
