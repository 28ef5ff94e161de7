"""School administration (accounts, trusted adults) and trust-wide figures: no report text."""

from .views import bp

__all__ = ["bp"]
