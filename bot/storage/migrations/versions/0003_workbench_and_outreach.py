"""The workbench's action log, the outreach outbox and the answers to 回访.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 14:00:09.068462
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0003'
down_revision: str | Sequence[str] | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A database adopted from ``create_all`` may hold these tables already.
    present = set(sa.inspect(op.get_bind()).get_table_names())
    if 'outreach_outbox' not in present:
        op.create_table('outreach_outbox',
        sa.Column('n', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('id', sa.String(length=64), nullable=False),
        sa.Column('dedupe_key', sa.String(length=255), nullable=False),
        sa.Column('buyer_id', sa.String(length=128), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('tid', sa.String(length=128), nullable=True),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('capped', sa.Boolean(), nullable=False),
        sa.Column('created', sa.DateTime(timezone=True), nullable=False),
        sa.Column('not_before', sa.DateTime(timezone=True), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('conversation_id', sa.String(length=128), nullable=True),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('n'),
        sa.UniqueConstraint('dedupe_key'),
        sa.UniqueConstraint('id')
        )
        with op.batch_alter_table('outreach_outbox', schema=None) as batch_op:
            batch_op.create_index(batch_op.f('ix_outreach_outbox_buyer_id'), ['buyer_id'], unique=False)
            batch_op.create_index(batch_op.f('ix_outreach_outbox_not_before'), ['not_before'], unique=False)
            batch_op.create_index(batch_op.f('ix_outreach_outbox_status'), ['status'], unique=False)

    if 'outreach_ratings' not in present:
        op.create_table('outreach_ratings',
        sa.Column('follow_up_id', sa.String(length=64), nullable=False),
        sa.Column('buyer_id', sa.String(length=128), nullable=False),
        sa.Column('tid', sa.String(length=128), nullable=True),
        sa.Column('rating', sa.Integer(), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('message_id', sa.String(length=128), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('ticket_id', sa.String(length=128), nullable=True),
        sa.PrimaryKeyConstraint('follow_up_id')
        )
        with op.batch_alter_table('outreach_ratings', schema=None) as batch_op:
            batch_op.create_index(batch_op.f('ix_outreach_ratings_buyer_id'), ['buyer_id'], unique=False)

    if 'workbench_actions' not in present:
        op.create_table('workbench_actions',
        sa.Column('n', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('id', sa.String(length=128), nullable=False),
        sa.Column('request_key', sa.String(length=255), nullable=True),
        sa.Column('action', sa.String(length=32), nullable=False),
        sa.Column('tid', sa.String(length=128), nullable=False),
        sa.Column('target', sa.String(length=128), nullable=True),
        sa.Column('buyer_id', sa.String(length=128), nullable=True),
        sa.Column('staff', sa.String(length=128), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('message', sa.Text(), nullable=False),
        sa.Column('request', sa.JSON(), nullable=False),
        sa.Column('plan', sa.JSON(), nullable=True),
        sa.Column('detail', sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint('n'),
        sa.UniqueConstraint('id'),
        sa.UniqueConstraint('request_key')
        )
        with op.batch_alter_table('workbench_actions', schema=None) as batch_op:
            batch_op.create_index(batch_op.f('ix_workbench_actions_action'), ['action'], unique=False)
            batch_op.create_index(batch_op.f('ix_workbench_actions_at'), ['at'], unique=False)
            batch_op.create_index(batch_op.f('ix_workbench_actions_status'), ['status'], unique=False)
            batch_op.create_index(batch_op.f('ix_workbench_actions_target'), ['target'], unique=False)
            batch_op.create_index(batch_op.f('ix_workbench_actions_tid'), ['tid'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('workbench_actions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_workbench_actions_tid'))
        batch_op.drop_index(batch_op.f('ix_workbench_actions_target'))
        batch_op.drop_index(batch_op.f('ix_workbench_actions_status'))
        batch_op.drop_index(batch_op.f('ix_workbench_actions_at'))
        batch_op.drop_index(batch_op.f('ix_workbench_actions_action'))

    op.drop_table('workbench_actions')
    with op.batch_alter_table('outreach_ratings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outreach_ratings_buyer_id'))

    op.drop_table('outreach_ratings')
    with op.batch_alter_table('outreach_outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outreach_outbox_status'))
        batch_op.drop_index(batch_op.f('ix_outreach_outbox_not_before'))
        batch_op.drop_index(batch_op.f('ix_outreach_outbox_buyer_id'))

    op.drop_table('outreach_outbox')
