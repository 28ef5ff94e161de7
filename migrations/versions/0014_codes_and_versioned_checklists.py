"""Urgency reasons and checklist steps kept as stable codes; checklists versioned per case.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03

- ``reports.urgency_reasons`` held the English words of each reason ("Threat to kill or
  hurt"), encrypted. It now holds codes ({"code": "threat_to_hurt"}), whose words are in
  portal.vocabulary.REASON_WORDS. Words this migration cannot place (none are known: the
  wording never changed) are kept, not lost: {"code": "unplaced", "words": "..."}, and
  the page shows those words. Rows are decrypted and encrypted again here (like 0009,
  this migration imports portal.crypto for the data key); a value stored before
  encryption is encrypted on the way.
- ``checklist_items.key`` named a step within its checklist ("4.3", "interview_all"); it
  now holds the step's code, unique across checklists ("cyber-4.3",
  "responding-interview_all").
- ``case_checklists``: which checklists a case has and the version of each definition its
  steps were brought up to. Existing cases have version 1 (every definition's first);
  ``attached_at`` is taken as the case's acknowledgement (when checklists used to start),
  else its arrival.

Downgrade gives the words and the old keys back and drops ``case_checklists``. The word-list
entries that matched (kept since this version with each word reason) have no place in the
old form and are dropped.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = '0014'
down_revision: str | Sequence[str] | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The words every version before this one stored, by the code that replaces them. Frozen
# here: the app's words (portal.vocabulary.REASON_WORDS) may change later, these may not.
WORDS = {
    "not_safe": "Does not feel safe right now",
    "self_harm": "Words of self-harm or suicide",
    "threat_to_hurt": "Threat to kill or hurt",
    "weapon": "Weapon mentioned",
    "sexual_images": "Sexual images of a child: consider CEOP",
    "sexual_harassment": "Sexual harassment or violence: always a safeguarding matter for the DSL",
    "not_sure_safe": "Not sure they feel safe right now",
    "long_refusal": "Not coming to school for two weeks or more: a safeguarding signal",
    "school_refusal": "Doesn't want to come to school",
    "send_involved": "A pupil with SEND is involved",
    "recurring": "Recurring: named in several reports",
    "physical_harm": "Physical harm described",
    "happened_before": "Has happened before",
    "online": "Online or outside school",
}
CODES = {words: code for code, words in WORDS.items()}
UNPLACED = "unplaced"
# checklist -> the prefix its steps' codes carry
PREFIX = {"responding": "responding-", "online": "cyber-", "malicious": "cyber-"}


def _crypto() -> Any:
    """portal.crypto with a keyring installed: the app's, or the configured one (as 0009)."""
    from portal import crypto

    try:
        crypto.keyring()
    except RuntimeError:
        try:
            from flask import current_app

            settings = current_app.config["PORTAL_SETTINGS"]
        except (RuntimeError, KeyError):
            from portal.config import Settings

            settings = Settings.from_env()
        crypto.install(crypto.load_keyring(settings.instance_dir, settings.data_key))
    return crypto


def to_code(item: Any) -> dict[str, Any]:
    """One stored reason in the new form: words become their code; a reason already coded
    stays as it is; words no version wrote are kept beside the code ``unplaced``."""
    if isinstance(item, dict) and "code" in item:
        return item
    words = str(item)
    code = CODES.get(words)
    return {"code": code} if code else {"code": UNPLACED, "words": words}


def to_words(item: Any) -> str:
    """One stored reason in the old form (its words)."""
    if not isinstance(item, dict):
        return str(item)
    code = str(item.get("code", ""))
    return WORDS.get(code) or str(item.get("words") or code)


def _reasons(change: Any) -> None:
    """Every report's reasons through ``change`` (a function on the decoded list)."""
    crypto = _crypto()
    conn = op.get_bind()
    reports = sa.table('reports', sa.column('id', sa.Integer()),
                       sa.column('urgency_reasons', sa.Text()))
    for row in conn.execute(sa.select(reports.c.id, reports.c.urgency_reasons)).all():
        if row.urgency_reasons is None:
            continue
        plain = crypto.decrypt_text(row.urgency_reasons).strip()
        value = json.loads(plain) if plain else []  # '' was 0009's default on SQLite
        if not isinstance(value, list):
            value = [value]
        stored = json.dumps(change(value), ensure_ascii=False, separators=(",", ":"))
        conn.execute(sa.update(reports).where(reports.c.id == row.id)
                     .values(urgency_reasons=crypto.encrypt_text(stored)))


def upgrade() -> None:
    _reasons(lambda reasons: [to_code(r) for r in reasons])
    for checklist, prefix in PREFIX.items():
        op.execute(sa.text(
            "UPDATE checklist_items SET key = :prefix || key "
            "WHERE checklist = :checklist AND key NOT LIKE :pattern"
        ).bindparams(prefix=prefix, checklist=checklist, pattern=f"{prefix}%"))
    op.create_table(
        'case_checklists',
        sa.Column('report_id', sa.Integer(), nullable=False),
        sa.Column('checklist', sa.String(length=30), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('attached_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('synced_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['report_id'], ['reports.id'],
                                name=op.f('fk_case_checklists_report_id_reports'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('report_id', 'checklist', name=op.f('pk_case_checklists')),
    )
    op.execute(
        "INSERT INTO case_checklists (report_id, checklist, version, attached_at, synced_at) "
        "SELECT DISTINCT i.report_id, i.checklist, 1, "
        "COALESCE(r.acknowledged_at, r.created_at), COALESCE(r.acknowledged_at, r.created_at) "
        "FROM checklist_items i JOIN reports r ON r.id = i.report_id"
    )


def downgrade() -> None:
    op.drop_table('case_checklists')
    for checklist, prefix in PREFIX.items():
        op.execute(sa.text(
            "UPDATE checklist_items SET key = SUBSTR(key, :start) "
            "WHERE checklist = :checklist AND key LIKE :pattern"
        ).bindparams(start=len(prefix) + 1, checklist=checklist, pattern=f"{prefix}%"))
    _reasons(lambda reasons: [to_words(r) for r in reasons])
