"""Episodes record their decision interval; it joins the episode's unique key.

Revision ID: 0002_decision_interval
Revises: 0001_initial
"""

import sqlalchemy as sa
from alembic import op

revision = '0002_decision_interval'
down_revision = '0001_initial'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('episodes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('decision_interval', sa.Integer(), server_default='1', nullable=False))
        batch_op.drop_constraint('uq_episodes_run_task_seed_episode', type_='unique')
        batch_op.create_unique_constraint(
            'uq_episodes_run_task_seed_interval_episode', ['run_id', 'task_id', 'seed', 'decision_interval', 'episode']
        )


def downgrade() -> None:
    with op.batch_alter_table('episodes', schema=None) as batch_op:
        batch_op.drop_constraint('uq_episodes_run_task_seed_interval_episode', type_='unique')
        batch_op.create_unique_constraint('uq_episodes_run_task_seed_episode', ['run_id', 'task_id', 'seed', 'episode'])
        batch_op.drop_column('decision_interval')
