"""bounded per-turn reads

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 15:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0005'
down_revision: str | Sequence[str] | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    columns = {c["name"] for c in inspector.get_columns("conv_conversations")}
    if "last_buyer_seq" not in columns:
        with op.batch_alter_table("conv_conversations", schema=None) as batch_op:
            batch_op.add_column(sa.Column("last_buyer_seq", sa.Integer(), nullable=False, server_default="0"))
        # The number of each conversation's newest buyer message, from the messages stored so far.
        op.execute(
            "UPDATE conv_conversations SET last_buyer_seq = COALESCE(("
            "SELECT MAX(m.seq) FROM conv_messages m "
            "WHERE m.conversation_id = conv_conversations.id AND m.role = 'buyer'), 0)"
        )
    # The draft store makes its table itself on older databases; add only what is missing.
    indexes = {i["name"] for i in inspector.get_indexes("sugg_suggestions")}
    with op.batch_alter_table("sugg_suggestions", schema=None) as batch_op:
        if "sugg_by_conversation_status" not in indexes:
            batch_op.create_index(
                "sugg_by_conversation_status", ["conversation_id", "status", "created"], unique=False
            )
        if "sugg_by_conversation_hold" not in indexes:
            batch_op.create_index("sugg_by_conversation_hold", ["conversation_id", "hold_at"], unique=False)
        if "sugg_timer_hold" not in indexes:
            batch_op.create_index("sugg_timer_hold", ["status", "hold_at"], unique=False)
        if "sugg_timer_due" not in indexes:
            batch_op.create_index("sugg_timer_due", ["status", "due_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('sugg_suggestions', schema=None) as batch_op:
        batch_op.drop_index('sugg_timer_due')
        batch_op.drop_index('sugg_timer_hold')
        batch_op.drop_index('sugg_by_conversation_hold')
        batch_op.drop_index('sugg_by_conversation_status')
    # In place (SQLite 3.35+ drops a column itself): a batch copy of conv_conversations
    # would drop the table that conv_messages and conv_turns refer to.
    op.drop_column('conv_conversations', 'last_buyer_seq')
