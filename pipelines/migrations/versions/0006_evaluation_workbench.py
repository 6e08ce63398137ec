"""evaluation workbench: test sets, runs with per-item results, human scores, pairwise votes,
assignments

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 02:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def _now() -> list[sa.Column]:
    return [sa.Column('created_at', sa.DateTime(timezone=True), nullable=False)]


def upgrade() -> None:
    op.create_table(
        'testsets',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('workspace_id', sa.Integer(),
                  sa.ForeignKey('workspaces.id', ondelete='CASCADE'), nullable=False),
        sa.Column('bot_slug', sa.String(length=80), nullable=True),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('description', sa.Text(), nullable=False),
        *_now(),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint('workspace_id', 'name'),
    )
    op.create_index('ix_testsets_workspace_id', 'testsets', ['workspace_id'])
    op.create_table(
        'testset_items',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('testset_id', sa.Integer(), sa.ForeignKey('testsets.id', ondelete='CASCADE'),
                  nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=120), nullable=False),
        sa.Column('question', sa.Text(), nullable=False),
        sa.Column('expected_answer', sa.Text(), nullable=False),
        sa.Column('expected_source', sa.String(length=1000), nullable=False),
        sa.Column('also_sources', sa.JSON(), nullable=False),
        sa.Column('history', sa.JSON(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('origin', sa.String(length=40), nullable=False),
        *_now(),
    )
    op.create_index('ix_testset_items_testset_id', 'testset_items', ['testset_id'])
    op.create_table(
        'eval_runs',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('workspace_id', sa.Integer(),
                  sa.ForeignKey('workspaces.id', ondelete='CASCADE'), nullable=False),
        sa.Column('testset_id', sa.Integer(), sa.ForeignKey('testsets.id', ondelete='SET NULL'),
                  nullable=True),
        sa.Column('testset_name', sa.String(length=120), nullable=False),
        sa.Column('bot_slug', sa.String(length=80), nullable=False),
        sa.Column('bot_version', sa.Integer(), nullable=False),
        sa.Column('label', sa.String(length=200), nullable=False),
        sa.Column('answer_mode', sa.String(length=20), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('summary', sa.JSON(), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_by', sa.String(length=120), nullable=False),
    )
    op.create_index('ix_eval_runs_workspace_id', 'eval_runs', ['workspace_id'])
    op.create_index('ix_eval_runs_testset_id', 'eval_runs', ['testset_id'])
    op.create_table(
        'eval_results',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('run_id', sa.Integer(), sa.ForeignKey('eval_runs.id', ondelete='CASCADE'),
                  nullable=False),
        sa.Column('item_id', sa.Integer(),
                  sa.ForeignKey('testset_items.id', ondelete='SET NULL'), nullable=True),
        sa.Column('item_key', sa.String(length=120), nullable=False),
        sa.Column('question', sa.Text(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('answer', sa.Text(), nullable=False),
        sa.Column('mode', sa.String(length=20), nullable=False),
        sa.Column('sources', sa.JSON(), nullable=False),
        sa.Column('retrieved', sa.JSON(), nullable=False),
        sa.Column('timings_ms', sa.JSON(), nullable=False),
        sa.Column('metrics', sa.JSON(), nullable=False),
        sa.Column('error', sa.Text(), nullable=True),
    )
    op.create_index('ix_eval_results_run_id', 'eval_results', ['run_id'])
    op.create_table(
        'human_scores',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('result_id', sa.Integer(),
                  sa.ForeignKey('eval_results.id', ondelete='CASCADE'), nullable=False),
        sa.Column('evaluator', sa.String(length=120), nullable=False),
        sa.Column('scores', sa.JSON(), nullable=False),
        sa.Column('comment', sa.Text(), nullable=False),
        *_now(),
        sa.UniqueConstraint('result_id', 'evaluator'),
    )
    op.create_index('ix_human_scores_result_id', 'human_scores', ['result_id'])
    op.create_table(
        'pairwise_votes',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('run_a_id', sa.Integer(), sa.ForeignKey('eval_runs.id', ondelete='CASCADE'),
                  nullable=False),
        sa.Column('run_b_id', sa.Integer(), sa.ForeignKey('eval_runs.id', ondelete='CASCADE'),
                  nullable=False),
        sa.Column('item_key', sa.String(length=120), nullable=False),
        sa.Column('evaluator', sa.String(length=120), nullable=False),
        sa.Column('left_run_id', sa.Integer(), nullable=False),
        sa.Column('choice', sa.String(length=10), nullable=False),
        sa.Column('comment', sa.Text(), nullable=False),
        *_now(),
        sa.UniqueConstraint('run_a_id', 'run_b_id', 'item_key', 'evaluator'),
    )
    op.create_index('ix_pairwise_votes_run_a_id', 'pairwise_votes', ['run_a_id'])
    op.create_table(
        'eval_assignments',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('result_id', sa.Integer(),
                  sa.ForeignKey('eval_results.id', ondelete='CASCADE'), nullable=False),
        sa.Column('evaluator', sa.String(length=120), nullable=False),
        *_now(),
        sa.UniqueConstraint('result_id', 'evaluator'),
    )
    op.create_index('ix_eval_assignments_result_id', 'eval_assignments', ['result_id'])


def downgrade() -> None:
    for table in ('eval_assignments', 'pairwise_votes', 'human_scores', 'eval_results',
                  'eval_runs', 'testset_items', 'testsets'):
        op.drop_table(table)
