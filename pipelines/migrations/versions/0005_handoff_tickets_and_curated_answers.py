"""handoff tickets with audit trail, curated answers, curated answer of a turn

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 22:15:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'tickets',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('workspace_id', sa.Integer(),
                  sa.ForeignKey('workspaces.id', ondelete='CASCADE'), nullable=False),
        sa.Column('bot_id', sa.Integer(), sa.ForeignKey('bots.id', ondelete='SET NULL'),
                  nullable=True),
        sa.Column('bot_version', sa.Integer(), nullable=False),
        sa.Column('conversation_id', sa.String(length=36),
                  sa.ForeignKey('conversations.id', ondelete='SET NULL'), nullable=True),
        sa.Column('message_id', sa.Integer(), sa.ForeignKey('messages.id', ondelete='SET NULL'),
                  nullable=True),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('reason', sa.String(length=30), nullable=False),
        sa.Column('office_key', sa.String(length=80), nullable=False),
        sa.Column('office_name', sa.String(length=200), nullable=False),
        sa.Column('office_email', sa.String(length=300), nullable=False),
        sa.Column('topic', sa.String(length=200), nullable=False),
        sa.Column('language', sa.String(length=8), nullable=False),
        sa.Column('question', sa.Text(), nullable=False),
        sa.Column('transcript', sa.JSON(), nullable=False),
        sa.Column('contact_email', sa.String(length=300), nullable=True),
        sa.Column('assigned_to', sa.String(length=120), nullable=True),
        sa.Column('reply', sa.Text(), nullable=True),
        sa.Column('replied_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index('ix_tickets_workspace_id', 'tickets', ['workspace_id'])
    op.create_index('ix_tickets_conversation_id', 'tickets', ['conversation_id'])
    op.create_index('ix_tickets_status', 'tickets', ['status'])
    op.create_table(
        'ticket_events',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('ticket_id', sa.Integer(), sa.ForeignKey('tickets.id', ondelete='CASCADE'),
                  nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('actor', sa.String(length=120), nullable=False),
        sa.Column('action', sa.String(length=40), nullable=False),
        sa.Column('detail', sa.Text(), nullable=False),
    )
    op.create_index('ix_ticket_events_ticket_id', 'ticket_events', ['ticket_id'])
    op.create_table(
        'curated_answers',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('workspace_id', sa.Integer(),
                  sa.ForeignKey('workspaces.id', ondelete='CASCADE'), nullable=False),
        sa.Column('bot_slug', sa.String(length=80), nullable=True),
        sa.Column('questions', sa.JSON(), nullable=False),
        sa.Column('answer', sa.Text(), nullable=False),
        sa.Column('source', sa.String(length=1000), nullable=False),
        sa.Column('enabled', sa.Boolean(), nullable=False),
        sa.Column('hits', sa.Integer(), nullable=False),
        sa.Column('ticket_id', sa.Integer(), sa.ForeignKey('tickets.id', ondelete='SET NULL'),
                  nullable=True),
        sa.Column('created_by', sa.String(length=120), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index('ix_curated_answers_workspace_id', 'curated_answers', ['workspace_id'])
    with op.batch_alter_table('messages') as batch:
        batch.add_column(sa.Column('curated_answer_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('handoff_reason', sa.String(length=30), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('messages') as batch:
        batch.drop_column('handoff_reason')
        batch.drop_column('curated_answer_id')
    op.drop_index('ix_curated_answers_workspace_id', table_name='curated_answers')
    op.drop_table('curated_answers')
    op.drop_index('ix_ticket_events_ticket_id', table_name='ticket_events')
    op.drop_table('ticket_events')
    op.drop_index('ix_tickets_status', table_name='tickets')
    op.drop_index('ix_tickets_conversation_id', table_name='tickets')
    op.drop_index('ix_tickets_workspace_id', table_name='tickets')
    op.drop_table('tickets')
