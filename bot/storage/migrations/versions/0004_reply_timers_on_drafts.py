"""reply timers on drafts

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 14:06:23.962494
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0004'
down_revision: str | Sequence[str] | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The draft store adds these columns itself on older databases; add only what is missing.
    inspector = sa.inspect(op.get_bind())
    columns = {c["name"] for c in inspector.get_columns("sugg_suggestions")}
    indexes = {i["name"] for i in inspector.get_indexes("sugg_suggestions")}
    with op.batch_alter_table("sugg_suggestions", schema=None) as batch_op:
        for name, kind in (("hold_at", sa.String(length=40)), ("due_at", sa.String(length=40)), ("origin", sa.String(length=16))):
            if name not in columns:
                batch_op.add_column(sa.Column(name, kind, nullable=True))
        if "sugg_by_due" not in indexes:
            batch_op.create_index("sugg_by_due", ["due_at"], unique=False)
        if "sugg_by_hold" not in indexes:
            batch_op.create_index("sugg_by_hold", ["hold_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('sugg_suggestions', schema=None) as batch_op:
        batch_op.drop_index('sugg_by_hold')
        batch_op.drop_index('sugg_by_due')
        batch_op.drop_column('origin')
        batch_op.drop_column('due_at')
        batch_op.drop_column('hold_at')

