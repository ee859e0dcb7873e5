"""Submissions carry a lease: the worker evaluating one beats (``heartbeat_at``) and the
claims are counted (``attempts``), so a submission whose worker died is taken again a
bounded number of times; a refused or abandoned upload can be ``refunded`` (not counted
against its token's quota).

Revision ID: 0012_submission_lease
Revises: 0011_run_algorithm
"""

import sqlalchemy as sa
from alembic import op

revision = '0012_submission_lease'
down_revision = '0011_run_algorithm'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('attempts', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('refunded', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.drop_column('refunded')
        batch_op.drop_column('attempts')
        batch_op.drop_column('heartbeat_at')
