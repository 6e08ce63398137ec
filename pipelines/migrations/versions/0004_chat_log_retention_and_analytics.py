"""chat logs: handoff flag, synthetic conversations, retention per workspace

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 19:35:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('workspaces') as batch:
        batch.add_column(sa.Column('retention_days', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('retention_mode', sa.String(length=20), nullable=True))
    with op.batch_alter_table('conversations') as batch:
        batch.add_column(sa.Column('synthetic', sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
    with op.batch_alter_table('messages') as batch:
        batch.add_column(sa.Column('handoff', sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
    op.create_index('ix_messages_created_at', 'messages', ['created_at'])


def downgrade() -> None:
    op.drop_index('ix_messages_created_at', table_name='messages')
    with op.batch_alter_table('messages') as batch:
        batch.drop_column('handoff')
    with op.batch_alter_table('conversations') as batch:
        batch.drop_column('synthetic')
    with op.batch_alter_table('workspaces') as batch:
        batch.drop_column('retention_days')
        batch.drop_column('retention_mode')
