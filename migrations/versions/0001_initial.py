"""Initial schema: trusts, schools, trusted adults, staff, sessions, reports, events.

Revision ID: 0001
Revises:
Create Date: 2026-11-23

Generated with ``alembic revision --autogenerate`` against an empty SQLite database, then
edited by hand:

- enum columns are ``VARCHAR(32)`` with an explicit, named CHECK constraint (the names the
  naming convention in portal/models/base.py gives: ``ck_<table>_<enum name>``), so the
  migration does not depend on the models' metadata to name them;
- ``UTCDateTime`` is written as what it stores, ``sa.DateTime(timezone=True)``;
- indexes are created with plain ``op.create_index`` (no table rebuild is needed for them).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLES = ("dsl", "deputy_dsl", "staff", "trust_lead", "admin")
SOURCES = ("pupil", "parent", "staff")
STATUSES = ("new", "in_review", "closed")
CATEGORIES = ("allegation", "bullying_incident", "not_bullying", "safeguarding")


def _one_of(column: str, values: Sequence[str], name: str) -> sa.CheckConstraint:
    """The CHECK constraint SQLAlchemy's non-native Enum creates, with its conventional name."""
    listed = ", ".join(f"'{value}'" for value in values)
    return sa.CheckConstraint(f"{column} IN ({listed})", name=op.f(name))


def upgrade() -> None:
    op.create_table(
        "trusts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trusts")),
    )

    op.create_table(
        "schools",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=60), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("trust_id", sa.Integer(), nullable=True),
        sa.Column("exit_url", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["trust_id"], ["trusts.id"], name=op.f("fk_schools_trust_id_trusts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schools")),
        sa.UniqueConstraint("slug", name=op.f("uq_schools_slug")),
    )
    op.create_index(op.f("ix_schools_trust_id"), "schools", ["trust_id"], unique=False)

    op.create_table(
        "trusted_adults",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("description", sa.String(length=120), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name=op.f("fk_trusted_adults_school_id_schools")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trusted_adults")),
    )
    op.create_index(
        op.f("ix_trusted_adults_school_id"), "trusted_adults", ["school_id"], unique=False
    )

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("display_name", sa.String(length=120), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=True),
        sa.Column("trust_id", sa.Integer(), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        _one_of("role", ROLES, "ck_users_role"),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name=op.f("fk_users_school_id_schools")
        ),
        sa.ForeignKeyConstraint(["trust_id"], ["trusts.id"], name=op.f("fk_users_trust_id_trusts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )
    op.create_index(op.f("ix_users_school_id"), "users", ["school_id"], unique=False)
    op.create_index(op.f("ix_users_trust_id"), "users", ["trust_id"], unique=False)

    op.create_table(
        "reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("urgency", sa.Integer(), nullable=False),
        sa.Column("urgency_reasons", sa.JSON(), nullable=False),
        sa.Column("followup_code_hash", sa.String(length=64), nullable=False),
        sa.Column("submission_hash", sa.String(length=64), nullable=True),
        sa.Column("sealed_code", sa.LargeBinary(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("about", sa.String(length=20), nullable=True),
        sa.Column("when", sa.String(length=20), nullable=True),
        sa.Column("happened_before", sa.String(length=20), nullable=True),
        sa.Column("places", sa.JSON(), nullable=False),
        sa.Column("people_involved", sa.Text(), nullable=False),
        sa.Column("feels_safe", sa.String(length=20), nullable=True),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("reporter_name", sa.String(length=120), nullable=False),
        sa.Column("reporter_class", sa.String(length=60), nullable=False),
        sa.Column("preferred_adult", sa.String(length=160), nullable=False),
        sa.Column("child_name", sa.String(length=120), nullable=False),
        sa.Column("child_year", sa.String(length=30), nullable=False),
        sa.Column("concern", sa.String(length=30), nullable=True),
        sa.Column("since_when", sa.String(length=200), nullable=False),
        sa.Column("told_before", sa.String(length=20), nullable=True),
        sa.Column("parent_name", sa.String(length=120), nullable=False),
        sa.Column("contact_email", sa.String(length=254), nullable=False),
        sa.Column("contact_phone", sa.String(length=40), nullable=False),
        sa.Column("contact_preference", sa.String(length=20), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        _one_of("source", SOURCES, "ck_reports_report_source"),
        _one_of("status", STATUSES, "ck_reports_report_status"),
        _one_of("category", CATEGORIES, "ck_reports_report_category"),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_reports_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name=op.f("fk_reports_school_id_schools")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reports")),
        sa.UniqueConstraint("followup_code_hash", name=op.f("uq_reports_followup_code_hash")),
        sa.UniqueConstraint("submission_hash", name=op.f("uq_reports_submission_hash")),
    )
    op.create_index(op.f("ix_reports_created_by_id"), "reports", ["created_by_id"], unique=False)
    op.create_index(
        "ix_reports_queue", "reports", ["school_id", "status", "urgency", "created_at"],
        unique=False,
    )

    op.create_table(
        "staff_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_staff_sessions_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_staff_sessions_token_hash")),
    )
    op.create_index(
        op.f("ix_staff_sessions_user_id"), "staff_sessions", ["user_id"], unique=False
    )

    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=True),
        sa.Column("report_id", sa.Integer(), nullable=True),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("old_value", sa.String(length=80), nullable=True),
        sa.Column("new_value", sa.String(length=80), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"], name=op.f("fk_events_actor_id_users")),
        sa.ForeignKeyConstraint(
            ["report_id"], ["reports.id"], name=op.f("fk_events_report_id_reports")
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name=op.f("fk_events_school_id_schools")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
    )
    op.create_index(op.f("ix_events_actor_id"), "events", ["actor_id"], unique=False)
    op.create_index(
        "ix_events_report_created", "events", ["report_id", "created_at"], unique=False
    )
    op.create_index(op.f("ix_events_school_id"), "events", ["school_id"], unique=False)

    op.create_table(
        "report_kinds",
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"], ["reports.id"], name=op.f("fk_report_kinds_report_id_reports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("report_id", "kind", name=op.f("pk_report_kinds")),
    )
    op.create_index(
        "ix_report_kinds_kind_report", "report_kinds", ["kind", "report_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_report_kinds_kind_report", table_name="report_kinds")
    op.drop_table("report_kinds")

    op.drop_index(op.f("ix_events_school_id"), table_name="events")
    op.drop_index("ix_events_report_created", table_name="events")
    op.drop_index(op.f("ix_events_actor_id"), table_name="events")
    op.drop_table("events")

    op.drop_index(op.f("ix_staff_sessions_user_id"), table_name="staff_sessions")
    op.drop_table("staff_sessions")

    op.drop_index("ix_reports_queue", table_name="reports")
    op.drop_index(op.f("ix_reports_created_by_id"), table_name="reports")
    op.drop_table("reports")

    op.drop_index(op.f("ix_users_trust_id"), table_name="users")
    op.drop_index(op.f("ix_users_school_id"), table_name="users")
    op.drop_table("users")

    op.drop_index(op.f("ix_trusted_adults_school_id"), table_name="trusted_adults")
    op.drop_table("trusted_adults")

    op.drop_index(op.f("ix_schools_trust_id"), table_name="schools")
    op.drop_table("schools")

    op.drop_table("trusts")
