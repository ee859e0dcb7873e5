"""Runs name the algorithm their agent is one training run of, so a leaderboard ranks an
algorithm over its independently trained checkpoints.

Revision ID: 0011_run_algorithm
Revises: 0010_episode_run_index
"""

import sqlalchemy as sa
from alembic import op

revision = '0011_run_algorithm'
down_revision = '0010_episode_run_index'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('algorithm', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('runs', schema=None) as batch_op:
        batch_op.drop_column('algorithm')
