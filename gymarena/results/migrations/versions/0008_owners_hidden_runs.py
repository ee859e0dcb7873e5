"""Agents belong to an owner (the leaderboard token that submitted them; "" for the
database's own runs), so one submitter can never add runs to another's agent; an admin can
hide a run (with the reason) from every listing and ranking without deleting it.

Revision ID: 0008_owners_hidden_runs
Revises: 0007_seed_spread
"""

import sqlalchemy as sa
from alembic import op

revision = '0008_owners_hidden_runs'
down_revision = '0007_seed_spread'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('agents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('owner', sa.String(length=200), server_default='', nullable=False))
        batch_op.drop_constraint('uq_agents_reference_hash', type_='unique')
        batch_op.create_unique_constraint('uq_agents_reference_hash_owner', ['reference', 'content_hash', 'owner'])
    with op.batch_alter_table('runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('hidden_reason', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('runs', schema=None) as batch_op:
        batch_op.drop_column('hidden_reason')
    with op.batch_alter_table('agents', schema=None) as batch_op:
        batch_op.drop_constraint('uq_agents_reference_hash_owner', type_='unique')
        batch_op.create_unique_constraint('uq_agents_reference_hash', ['reference', 'content_hash'])
        batch_op.drop_column('owner')
