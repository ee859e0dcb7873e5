"""A running run names the process recording it (host:pid:start), so a dead one is shown
as interrupted and a live one is not shared by a second identical eval.

Revision ID: 0009_run_holder
Revises: 0008_owners_hidden_runs
"""

import sqlalchemy as sa
from alembic import op

revision = '0009_run_holder'
down_revision = '0008_owners_hidden_runs'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('holder', sa.String(length=300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('runs', schema=None) as batch_op:
        batch_op.drop_column('holder')
