"""Episodes of tasks played in trials (meta-RL) record their trial and phase.

Revision ID: 0003_trials
Revises: 0002_decision_interval
"""

import sqlalchemy as sa
from alembic import op

revision = '0003_trials'
down_revision = '0002_decision_interval'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('episodes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('trial', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('phase', sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('episodes', schema=None) as batch_op:
        batch_op.drop_column('phase')
        batch_op.drop_column('trial')
