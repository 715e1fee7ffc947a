"""The first schema: every table as ``create_all`` made it before migrations.

Revision ID: 0001
Revises:
Create Date: 2026-12-01 12:17:25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0001'
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('account_agents',
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('created', sa.DateTime(timezone=True), nullable=False),
    sa.Column('token_version', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('disabled_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('username')
    )
    op.create_table('account_revoked_tokens',
    sa.Column('token_id', sa.String(length=64), nullable=False),
    sa.Column('expires', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('token_id')
    )
    with op.batch_alter_table('account_revoked_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_account_revoked_tokens_expires'), ['expires'], unique=False)

    op.create_table('conv_conversations',
    sa.Column('n', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('id', sa.String(length=128), nullable=False),
    sa.Column('buyer_id', sa.String(length=128), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('agent', sa.String(length=128), nullable=True),
    sa.Column('state', sa.JSON(), nullable=False),
    sa.Column('summary', sa.Text(), nullable=True),
    sa.Column('rating', sa.Integer(), nullable=True),
    sa.Column('created', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated', sa.DateTime(timezone=True), nullable=False),
    sa.Column('waiting_since', sa.DateTime(timezone=True), nullable=True),
    sa.Column('message_count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('n'),
    sa.UniqueConstraint('id')
    )
    with op.batch_alter_table('conv_conversations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_conv_conversations_buyer_id'), ['buyer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_conv_conversations_status'), ['status'], unique=False)

    op.create_table('order_buyers',
    sa.Column('id', sa.String(length=128), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('doc', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('order_idempotency',
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('op', sa.String(length=32), nullable=False),
    sa.Column('target', sa.String(length=128), nullable=False),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_table('order_meta',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('value', sa.String(length=255), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_table('order_orders',
    sa.Column('tid', sa.String(length=128), nullable=False),
    sa.Column('buyer_id', sa.String(length=128), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('created', sa.DateTime(timezone=True), nullable=False),
    sa.Column('doc', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('tid')
    )
    with op.batch_alter_table('order_orders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_order_orders_buyer_id'), ['buyer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_order_orders_seq'), ['seq'], unique=False)

    op.create_table('order_tickets',
    sa.Column('n', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('id', sa.String(length=128), nullable=False),
    sa.Column('tid', sa.String(length=128), nullable=True),
    sa.Column('buyer_id', sa.String(length=128), nullable=False),
    sa.Column('doc', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('n'),
    sa.UniqueConstraint('id')
    )
    with op.batch_alter_table('order_tickets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_order_tickets_buyer_id'), ['buyer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_order_tickets_tid'), ['tid'], unique=False)

    op.create_table('sugg_suggestions',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('conversation_id', sa.String(length=64), nullable=False),
    sa.Column('turn_id', sa.String(length=64), nullable=False),
    sa.Column('intent', sa.String(length=64), nullable=False),
    sa.Column('draft', sa.Text(), nullable=False),
    sa.Column('citations', sa.JSON(), nullable=False),
    sa.Column('facts', sa.JSON(), nullable=False),
    sa.Column('flags', sa.JSON(), nullable=False),
    sa.Column('flag_details', sa.JSON(), nullable=False),
    sa.Column('drafter', sa.String(length=16), nullable=False),
    sa.Column('fallback_reason', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('final_text', sa.Text(), nullable=True),
    sa.Column('decided_by', sa.String(length=64), nullable=True),
    sa.Column('decided_at', sa.String(length=40), nullable=True),
    sa.Column('reject_reason', sa.Text(), nullable=True),
    sa.Column('edit_distance', sa.Integer(), nullable=True),
    sa.Column('created', sa.String(length=40), nullable=False),
    sa.Column('override_by', sa.String(length=64), nullable=True),
    sa.Column('override_at', sa.String(length=40), nullable=True),
    sa.Column('override_flags', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('sugg_suggestions', schema=None) as batch_op:
        batch_op.create_index('sugg_by_conversation', ['conversation_id', 'created'], unique=False)
        batch_op.create_index('sugg_by_status', ['status', 'created'], unique=False)

    op.create_table('conv_messages',
    sa.Column('id', sa.String(length=128), nullable=False),
    sa.Column('conversation_id', sa.String(length=128), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('author', sa.String(length=128), nullable=True),
    sa.Column('created', sa.DateTime(timezone=True), nullable=False),
    sa.Column('turn_id', sa.String(length=128), nullable=True),
    sa.ForeignKeyConstraint(['conversation_id'], ['conv_conversations.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('conversation_id', 'seq', name='uq_conv_messages_seq')
    )
    with op.batch_alter_table('conv_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_conv_messages_conversation_id'), ['conversation_id'], unique=False)

    op.create_table('conv_turns',
    sa.Column('n', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('turn_id', sa.String(length=128), nullable=False),
    sa.Column('conversation_id', sa.String(length=128), nullable=False),
    sa.Column('buyer_message_id', sa.String(length=128), nullable=True),
    sa.Column('intent', sa.String(length=64), nullable=False),
    sa.Column('fine_intent', sa.String(length=64), nullable=True),
    sa.Column('action', sa.String(length=64), nullable=True),
    sa.Column('handoff', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('latency_ms', sa.Float(), nullable=False),
    sa.Column('created', sa.DateTime(timezone=True), nullable=False),
    sa.Column('result', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['conversation_id'], ['conv_conversations.id'], ),
    sa.PrimaryKeyConstraint('n'),
    sa.UniqueConstraint('turn_id')
    )
    with op.batch_alter_table('conv_turns', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_conv_turns_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_conv_turns_conversation_id'), ['conversation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_conv_turns_handoff'), ['handoff'], unique=False)
        batch_op.create_index(batch_op.f('ix_conv_turns_intent'), ['intent'], unique=False)

    op.create_table('order_ledger',
    sa.Column('tid', sa.String(length=128), nullable=False),
    sa.Column('oid', sa.String(length=128), nullable=False),
    sa.Column('paid_fen', sa.Integer(), nullable=False),
    sa.Column('refunded_fen', sa.Integer(), nullable=False),
    sa.Column('open_fen', sa.Integer(), nullable=False),
    sa.Column('open_refund', sa.String(length=128), nullable=True),
    sa.Column('refunded_by', sa.String(length=128), nullable=True),
    sa.CheckConstraint('open_fen = 0 OR open_refund IS NOT NULL', name='ck_order_ledger_open_money'),
    sa.CheckConstraint('open_refund IS NULL OR refunded_by IS NULL', name='ck_order_ledger_refunded_is_final'),
    sa.CheckConstraint('paid_fen >= 0 AND refunded_fen >= 0 AND open_fen >= 0', name='ck_order_ledger_not_negative'),
    sa.CheckConstraint('refunded_fen + open_fen <= paid_fen', name='ck_order_ledger_within_paid'),
    sa.ForeignKeyConstraint(['tid'], ['order_orders.tid'], ),
    sa.PrimaryKeyConstraint('tid', 'oid')
    )


def downgrade() -> None:
    op.drop_table('order_ledger')
    with op.batch_alter_table('conv_turns', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_conv_turns_intent'))
        batch_op.drop_index(batch_op.f('ix_conv_turns_handoff'))
        batch_op.drop_index(batch_op.f('ix_conv_turns_conversation_id'))
        batch_op.drop_index(batch_op.f('ix_conv_turns_action'))

    op.drop_table('conv_turns')
    with op.batch_alter_table('conv_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_conv_messages_conversation_id'))

    op.drop_table('conv_messages')
    with op.batch_alter_table('sugg_suggestions', schema=None) as batch_op:
        batch_op.drop_index('sugg_by_status')
        batch_op.drop_index('sugg_by_conversation')

    op.drop_table('sugg_suggestions')
    with op.batch_alter_table('order_tickets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_order_tickets_tid'))
        batch_op.drop_index(batch_op.f('ix_order_tickets_buyer_id'))

    op.drop_table('order_tickets')
    with op.batch_alter_table('order_orders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_order_orders_seq'))
        batch_op.drop_index(batch_op.f('ix_order_orders_buyer_id'))

    op.drop_table('order_orders')
    op.drop_table('order_meta')
    op.drop_table('order_idempotency')
    op.drop_table('order_buyers')
    with op.batch_alter_table('conv_conversations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_conv_conversations_status'))
        batch_op.drop_index(batch_op.f('ix_conv_conversations_buyer_id'))

    op.drop_table('conv_conversations')
    with op.batch_alter_table('account_revoked_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_account_revoked_tokens_expires'))

    op.drop_table('account_revoked_tokens')
    op.drop_table('account_agents')
