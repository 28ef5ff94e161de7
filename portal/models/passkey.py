"""Passkeys (WebAuthn): a member of staff's second step of signing in, beside the
authenticator app's code (issue 18)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime, utcnow


class Passkey(Base):
    """One passkey a member of staff added (a phone's, a laptop's, a security key's): the
    credential's id and public key, as the authenticator gave them; nothing secret is kept.
    ``sign_count`` is the authenticator's counter (a copied key shows an old one), and
    ``last_challenge`` the hash of the last challenge it answered, so the same answer is
    never taken twice."""

    __tablename__ = "staff_passkeys"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    credential_id: Mapped[bytes] = mapped_column(LargeBinary(1023), unique=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary(2048))
    sign_count: Mapped[int] = mapped_column(Integer, default=0)
    # what the member of staff called it ("Work laptop"), to tell them apart
    name: Mapped[str] = mapped_column(String(60))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_challenge: Mapped[str | None] = mapped_column(String(64))
