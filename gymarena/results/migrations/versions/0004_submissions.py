"""Leaderboard submissions: API tokens, submissions, hidden seeds, and each run's kind and submission.

Revision ID: 0004_submissions
Revises: 0003_trials
"""

import sqlalchemy as sa
from alembic import op

revision = '0004_submissions'
down_revision = '0003_trials'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('tokens',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('daily_quota', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('name'),
        sa.UniqueConstraint('token_hash'),
    )
    op.create_table('submissions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('suite', sa.String(length=200), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.Column('log_tail', sa.Text(), nullable=True),
        sa.Column('manifest', sa.JSON(), nullable=False),
        sa.Column('archive', sa.LargeBinary(), nullable=True),
        sa.Column('archive_sha256', sa.String(length=64), nullable=True),
        sa.Column('worker', sa.String(length=200), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['token_id'], ['tokens.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_submissions_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_submissions_token_id'), ['token_id'], unique=False)
    op.create_table('hidden_seeds',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('suite', sa.String(length=200), nullable=False),
        sa.Column('seeds', sa.JSON(), nullable=False),
        sa.Column('salt', sa.String(length=64), nullable=False),
        sa.Column('commitment', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('revealed_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('hidden_seeds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hidden_seeds_suite'), ['suite'], unique=False)
    with op.batch_alter_table('runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=20), server_default='local', nullable=False))
        batch_op.add_column(sa.Column('submission_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_runs_submission_id'), ['submission_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_runs_suite'), ['suite'], unique=False)
        batch_op.create_foreign_key('fk_runs_submission_id_submissions', 'submissions', ['submission_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('runs', schema=None) as batch_op:
        batch_op.drop_constraint('fk_runs_submission_id_submissions', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_runs_suite'))
        batch_op.drop_index(batch_op.f('ix_runs_submission_id'))
        batch_op.drop_column('submission_id')
        batch_op.drop_column('kind')
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_submissions_token_id'))
        batch_op.drop_index(batch_op.f('ix_submissions_status'))
    with op.batch_alter_table('hidden_seeds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hidden_seeds_suite'))
    op.drop_table('hidden_seeds')
    op.drop_table('submissions')
    op.drop_table('tokens')
