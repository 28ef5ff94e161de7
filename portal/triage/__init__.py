"""The staff side: the triage queue and the case page."""

# The case work of issue 14: each module adds its routes to ``bp`` and its part of the
# case page (portal.triage.case_parts) when imported.
from . import (
    views_audit,  # noqa: F401 - the audit trail for the DSL team (issue 16)
    views_checkback,  # noqa: F401
    views_evidence,  # noqa: F401 - evidence the DSL adds (issue 16)
    views_export,  # noqa: F401 - records leaving as PDFs (issue 16)
    views_notices,  # noqa: F401
    views_nude,  # noqa: F401 - suspected nude images (UKCIS guidance)
    views_parents,  # noqa: F401
    views_parties,  # noqa: F401
    views_search,  # noqa: F401 - the search page (portal.search)
    views_share,  # noqa: F401 - a case worked together with another school (issue 16)
    views_transfer,  # noqa: F401 - a child's record to another school of the trust
)
from .views import bp

__all__ = ["bp"]
