"""Staff accounts."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, EncryptedText, UTCDateTime, enum_column, utcnow
from .school import School, Trust


class Role(enum.StrEnum):
    DSL = "dsl"
    DEPUTY_DSL = "deputy_dsl"
    STAFF = "staff"
    HEAD = "head"
    TRUST_LEAD = "trust_lead"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.DSL: "Designated Safeguarding Lead",
    Role.DEPUTY_DSL: "Deputy DSL",
    Role.STAFF: "Staff",
    Role.HEAD: "Head teacher / SLT",
    Role.TRUST_LEAD: "Trust lead",
    Role.ADMIN: "Administrator",
}

# The school's DSL team: the DSL and their deputies. Only they read report text (design,
# "Least privilege"), are told of new reports, and take cases. The one place this set is
# written; every rule and route that means "the DSL team" uses it.
DSL_TEAM = frozenset({Role.DSL, Role.DEPUTY_DSL})

# The password hash of an account invited in the browser (portal.admin.staff) that has not
# set its password yet: nothing verifies against it, and nobody is emailed at it as the
# DSL team until its owner has set a password.
NO_PASSWORD = "!invited"  # noqa: S105 - not a password: a hash nothing matches
# The password hash of such an account whose owner signed in with the school's own sign-in
# service (portal.auth.sso) instead: set up, and still no password that anything matches.
SSO_ONLY = "!school-account"  # noqa: S105 - not a password: a hash nothing matches

# Who sees the school's figures (counts, never report text). The head teacher / principal /
# SLT member "sees the school's figures and the notices the policies address to the
# Principal, no report text" (design, Roles); the trust lead sees every school's.
FIGURES_ROLES = frozenset({Role.DSL, Role.DEPUTY_DSL, Role.HEAD, Role.TRUST_LEAD})


class User(Base):
    """A member of staff who signs in to the staff side."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(120), default="")
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(enum_column(Role, "role"))
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id"), index=True)
    trust_id: Mapped[int | None] = mapped_column(ForeignKey("trusts.id"), index=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # TOTP second factor (RFC 6238). The secret is encrypted at rest; the last time step
    # used is kept so a code works once.
    totp_secret: Mapped[str | None] = mapped_column(EncryptedText())
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    totp_last_step: Mapped[int] = mapped_column(Integer, default=0)
    # Bumped by `portal unlock-user`: the per-account sign-in throttle starts afresh.
    throttle_epoch: Mapped[int] = mapped_column(Integer, default=0)

    school: Mapped[School | None] = relationship()
    trust: Mapped[Trust | None] = relationship()

    # Flask-Login's protocol. The cookie names a server-side StaffSession, never the user
    # id, so a session ended on the server can't be brought back by replaying a cookie.
    session_token = ""
    # The address the signed-in member of staff is acting from (audit events record it).
    address = None  # type: str | None

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return self.session_token

    @property
    def reads_reports(self) -> bool:
        return self.role in DSL_TEAM

    @property
    def name(self) -> str:
        return self.display_name or self.email


class StaffSession(Base):
    """A signed-in staff session, kept on the server so logout and timeouts really end it."""

    __tablename__ = "staff_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()


class StaffInvite(Base):
    """A one-time link to set a password and then a second step (issue 18: staff accounts in
    the browser). Only the token's SHA-256 is kept; it works once, and only until
    ``expires_at``; sending a new link ends the old one."""

    __tablename__ = "staff_invites"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # used to set the password, or ended by a newer link or the account being disabled
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship(foreign_keys=[user_id])


class RecoveryCode(Base):
    """A one-time code for when the authenticator phone is lost (only its hash is kept)."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Device(Base):
    """A school tablet enrolled as a kiosk: it opens on the pupil form and resets itself."""

    __tablename__ = "devices"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(80))
    enrolled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    enrolled_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    school: Mapped[School] = relationship()
