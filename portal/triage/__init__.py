"""The staff side: the triage queue and the case page."""

from . import views_search  # noqa: F401 - the search page (portal.search)
from .views import bp

# The case work of issue 14: each module adds its routes to ``bp`` and its part of the
# case page (portal.triage.case_parts) when imported.

__all__ = ["bp"]
