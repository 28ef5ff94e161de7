"""The portal's data model (SQLAlchemy 2.0, typed)."""

from .base import Base, utcnow
from .event import AppendOnlyError, Event
from .report import Report, ReportKind
from .school import School, Trust, TrustedAdult
from .user import READS_REPORTS, Role, StaffSession, User

__all__ = [
    "READS_REPORTS",
    "AppendOnlyError",
    "Base",
    "Event",
    "Report",
    "ReportKind",
    "Role",
    "School",
    "StaffSession",
    "Trust",
    "TrustedAdult",
    "User",
    "utcnow",
]
