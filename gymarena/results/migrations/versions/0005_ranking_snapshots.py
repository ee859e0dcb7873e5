"""Runs count their episodes; leaderboard pages are stored as ranking snapshots.

Revision ID: 0005_ranking_snapshots
Revises: 0004_submissions
"""

from alembic import op
import sqlalchemy as sa


revision = '0005_ranking_snapshots'
down_revision = '0004_submissions'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('episode_count', sa.Integer(), server_default='0', nullable=False))
    op.execute('UPDATE runs SET episode_count = (SELECT count(*) FROM episodes WHERE episodes.run_id = runs.id)')
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
    with op.batch_alter_table('runs', schema=None) as batch_op:
        batch_op.drop_column('episode_count')
