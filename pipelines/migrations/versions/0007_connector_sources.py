"""connectors: sources (website, CKAN portal, FAQ list) per bot and their pages/datasets

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'connector_sources',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('workspace_id', sa.Integer(),
                  sa.ForeignKey('workspaces.id', ondelete='CASCADE'), nullable=False),
        sa.Column('bot_slug', sa.String(length=80), nullable=False),
        sa.Column('knowledge_base', sa.String(length=80), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('name', sa.String(length=300), nullable=False),
        sa.Column('url', sa.String(length=2000), nullable=False),
        sa.Column('settings', sa.JSON(), nullable=False),
        sa.Column('refresh_hours', sa.Float(), nullable=True),
        sa.Column('enabled', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_run_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_status', sa.String(length=20), nullable=False),
        sa.Column('last_report', sa.JSON(), nullable=False),
        sa.UniqueConstraint('workspace_id', 'bot_slug', 'kind', 'url'),
    )
    op.create_index('ix_connector_sources_workspace_id', 'connector_sources', ['workspace_id'])
    op.create_table(
        'connector_items',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('source_id', sa.Integer(),
                  sa.ForeignKey('connector_sources.id', ondelete='CASCADE'), nullable=False),
        sa.Column('key', sa.String(length=2000), nullable=False),
        sa.Column('url', sa.String(length=2000), nullable=False),
        sa.Column('title', sa.String(length=500), nullable=False),
        sa.Column('document_path', sa.String(length=1000), nullable=False),
        sa.Column('etag', sa.String(length=300), nullable=False),
        sa.Column('last_modified', sa.String(length=100), nullable=False),
        sa.Column('content_hash', sa.String(length=64), nullable=False),
        sa.Column('modified', sa.String(length=60), nullable=False),
        sa.Column('links', sa.JSON(), nullable=False),
        sa.Column('extra', sa.JSON(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('error', sa.Text(), nullable=False),
        sa.Column('fetched_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('checked_at', sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint('source_id', 'key'),
    )
    op.create_index('ix_connector_items_source_id', 'connector_items', ['source_id'])


def downgrade() -> None:
    op.drop_index('ix_connector_items_source_id', table_name='connector_items')
    op.drop_table('connector_items')
    op.drop_index('ix_connector_sources_workspace_id', table_name='connector_sources')
    op.drop_table('connector_sources')
