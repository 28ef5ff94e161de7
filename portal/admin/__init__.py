"""School administration (accounts, trusted adults) and trust-wide figures: no report text."""

from . import views_notices  # noqa: F401, E402  (the school contacts page)
from .views import bp

__all__ = ["bp"]
