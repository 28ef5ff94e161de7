"""Single sign-on (OpenID Connect): a school's or a trust's identity provider (issue 18)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, EncryptedText, UTCDateTime, utcnow


class SsoProvider(Base):
    """Where a school's staff (or every school's of a trust) may sign in with their school
    account: the provider's issuer, the portal's client id and secret there, and the email
    domains it speaks for. Signing in matches the verified email to an existing account in
    this provider's school or trust; roles stay in the portal. The secret is encrypted at
    rest and never shown again or written in an event."""

    __tablename__ = "sso_providers"
    __table_args__ = (
        CheckConstraint("(school_id IS NULL) <> (trust_id IS NULL)",
                        name="one_scope"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id"), unique=True)
    trust_id: Mapped[int | None] = mapped_column(ForeignKey("trusts.id"), unique=True)
    label: Mapped[str] = mapped_column(String(80))
    issuer: Mapped[str] = mapped_column(String(500))
    client_id: Mapped[str] = mapped_column(String(500))
    client_secret: Mapped[str] = mapped_column(EncryptedText())
    # lower-case domains, one per line ("school.example.org")
    domains: Mapped[str] = mapped_column(Text, default="")
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    @property
    def domain_list(self) -> list[str]:
        return [d for d in self.domains.split() if d]
