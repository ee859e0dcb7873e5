"""Runs keep a summary of their own (a CAV testing run's crash-rate estimate, CI, RHW path
and tests needed).

Revision ID: 0006_run_summary
Revises: 0005_ranking_snapshots
"""

import sqlalchemy as sa
from alembic import op

revision = '0006_run_summary'
down_revision = '0005_ranking_snapshots'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('summary', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('runs', schema=None) as batch_op:
        batch_op.drop_column('summary')
