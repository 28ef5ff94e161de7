"""A new staff role, ``head``: the head teacher / principal / SLT member.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-02

The design's Roles: "`head` (head teacher / principal / SLT: the school's figures and the
notices the policies address to the Principal, no report text)". ``users.role`` is a
VARCHAR with a CHECK constraint listing the roles (portal.models.base.enum_column), so the
constraint is widened to allow 'head'. SQLite cannot alter a constraint: batch mode copies
the table.

Downgrade refuses while any account has the role ``head``: turning a head into another
role would give them that role's pages (a member of staff records concerns, a DSL reads
reports), and deleting the account would orphan the events that name it. Change or remove
those accounts first (``portal`` has no command that does it silently), then downgrade.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0020'
down_revision: str | Sequence[str] | None = '0019'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# In the models' order (portal.models.user.Role), as SQLAlchemy writes the CHECK.
BEFORE = ("dsl", "deputy_dsl", "staff", "trust_lead", "admin")
AFTER = ("dsl", "deputy_dsl", "staff", "head", "trust_lead", "admin")


class HeadAccountsExist(RuntimeError):
    """Downgrade refused: accounts with the role ``head`` would break the old constraint."""


def _role_check(values: Sequence[str]) -> None:
    listed = ", ".join(f"'{value}'" for value in values)
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_users_role'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_users_role'), sa.text(f"role IN ({listed})"))


def upgrade() -> None:
    _role_check(AFTER)


def downgrade() -> None:
    heads = op.get_bind().execute(
        sa.text("SELECT count(*) FROM users WHERE role = 'head'")).scalar() or 0
    if heads:
        raise HeadAccountsExist(
            f"{heads} account(s) have the role 'head', which revision 0019 does not know: "
            "give them another role or remove them, then downgrade again.")
    _role_check(BEFORE)
