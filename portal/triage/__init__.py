"""The staff side: the triage queue and the case page."""

from .views import bp

__all__ = ["bp"]
