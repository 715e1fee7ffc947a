"""The console queue's indexes: keyset pages of waiting and of recently changed conversations.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 13:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = '0002'
down_revision: str | Sequence[str] | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('conv_conversations', schema=None) as batch_op:
        # A database adopted from ``create_all`` may hold them already.
        batch_op.create_index('conv_queue_waiting', ['status', 'waiting_since', 'n'], unique=False, if_not_exists=True)
        batch_op.create_index('conv_queue_updated', ['updated', 'n'], unique=False, if_not_exists=True)
        batch_op.create_index(
            'conv_queue_status_updated', ['status', 'updated', 'n'], unique=False, if_not_exists=True
        )


def downgrade() -> None:
    with op.batch_alter_table('conv_conversations', schema=None) as batch_op:
        batch_op.drop_index('conv_queue_status_updated')
        batch_op.drop_index('conv_queue_updated')
        batch_op.drop_index('conv_queue_waiting')
