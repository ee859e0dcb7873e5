"""Runs count their episodes, complete runs keep their per-seed means, and leaderboard
pages are stored as ranking snapshots.

Revision ID: 0005_ranking_snapshots
Revises: 0004_submissions
"""

import sqlalchemy as sa
from alembic import op

revision = '0005_ranking_snapshots'
down_revision = '0004_submissions'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('episode_count', sa.Integer(), server_default='0', nullable=False))
    op.execute('UPDATE runs SET episode_count = (SELECT count(*) FROM episodes WHERE episodes.run_id = runs.id)')
    op.create_table('seed_means',
        sa.Column('run_id', sa.Integer(), nullable=False),
        sa.Column('task_id', sa.String(length=200), nullable=False),
        sa.Column('seed', sa.BigInteger(), nullable=False),
        sa.Column('decision_interval', sa.Integer(), nullable=False),
        sa.Column('episodes', sa.Integer(), nullable=False),
        sa.Column('mean_return', sa.Float(), nullable=False),
        sa.Column('success_rate', sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(['run_id'], ['runs.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('run_id', 'task_id', 'seed', 'decision_interval'),
    )
    op.execute(
        "INSERT INTO seed_means (run_id, task_id, seed, decision_interval, episodes, mean_return, success_rate) "
        "SELECT e.run_id, e.task_id, e.seed, e.decision_interval, count(*), avg(e.episode_return), "
        "avg(CASE WHEN e.success IS NULL THEN NULL WHEN e.success THEN 1.0 ELSE 0.0 END) "
        "FROM episodes e JOIN runs r ON r.id = e.run_id "
        "WHERE r.status = 'complete' AND e.error IS NULL AND (e.phase IS NULL OR e.phase != 'adaptation') "
        "GROUP BY e.run_id, e.task_id, e.seed, e.decision_interval"
    )
    op.create_table('ranking_snapshots',
        sa.Column('suite', sa.String(length=200), nullable=False),
        sa.Column('version', sa.Text(), nullable=False),
        sa.Column('serial', sa.Integer(), nullable=False),
        sa.Column('payload', sa.Text(), nullable=False),
        sa.Column('html', sa.Text(), nullable=False),
        sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('suite'),
    )


def downgrade() -> None:
    op.drop_table('ranking_snapshots')
    op.drop_table('seed_means')
    with op.batch_alter_table('runs', schema=None) as batch_op:
        batch_op.drop_column('episode_count')
