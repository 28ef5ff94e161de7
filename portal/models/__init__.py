"""The portal's data model (SQLAlchemy 2.0, typed)."""

from .base import Base, utcnow
from .case import ACTION_LABELS, ActionKind, CaseAction, CaseChecklist, ChecklistItem, ItemState
from .conversation import Evidence, Message, OutboxMessage, Sender
from .event import AppendOnlyError, Event, EventUnlock
from .pupil import (
    LINK_ROLE_LABELS,
    SEN_LABELS,
    LinkRole,
    Pupil,
    ReportPupil,
    SenStatus,
    upn_index,
)
from .report import Report, ReportKind
from .school import School, Trust, TrustedAdult
from .search import SearchTerm
from .user import DSL_TEAM, Device, RecoveryCode, Role, StaffSession, User

__all__ = [
    "ACTION_LABELS",
    "LINK_ROLE_LABELS",
    "SEN_LABELS",
    "ActionKind",
    "CaseAction",
    "CaseChecklist",
    "ChecklistItem",
    "Device",
    "RecoveryCode",
    "Evidence",
    "Message",
    "OutboxMessage",
    "Sender",
    "ItemState",
    "LinkRole",
    "Pupil",
    "ReportPupil",
    "SenStatus",
    "DSL_TEAM",
    "AppendOnlyError",
    "Base",
    "Event",
    "EventUnlock",
    "Report",
    "ReportKind",
    "Role",
    "School",
    "StaffSession",
    "Trust",
    "TrustedAdult",
    "User",
    "upn_index",
    "utcnow",
    "SearchTerm",
]
