"""Per-seed means also count every record and the crashed ones, and keep the mean squared
return (for the spread of returns), so a run's whole score is computed from them; a seed
whose every episode crashed has a row with NULL means. Complete runs' rows are recomputed.

Revision ID: 0007_seed_spread
Revises: 0006_run_summary
"""

import sqlalchemy as sa
from alembic import op

revision = '0007_seed_spread'
down_revision = '0006_run_summary'
branch_labels = None
depends_on = None

_SCORED = "e.error IS NULL AND (e.phase IS NULL OR e.phase != 'adaptation')"


def upgrade() -> None:
    with op.batch_alter_table('seed_means', schema=None) as batch_op:
        batch_op.add_column(sa.Column('recorded', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('failed', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('mean_square_return', sa.Float(), nullable=True))
        batch_op.alter_column('mean_return', existing_type=sa.Float(), nullable=True)
    with op.batch_alter_table('seed_means', schema=None) as batch_op:  # the model has no server defaults
        batch_op.alter_column('recorded', existing_type=sa.Integer(), server_default=None)
        batch_op.alter_column('failed', existing_type=sa.Integer(), server_default=None)
    op.execute("DELETE FROM seed_means")
    op.execute(
        "INSERT INTO seed_means (run_id, task_id, seed, decision_interval, recorded, failed, episodes, mean_return, "
        "mean_square_return, success_rate) "
        "SELECT e.run_id, e.task_id, e.seed, e.decision_interval, count(*), count(e.error), "
        f"count(CASE WHEN {_SCORED} THEN e.episode_return END), "
        f"avg(CASE WHEN {_SCORED} THEN e.episode_return END), "
        f"avg(CASE WHEN {_SCORED} THEN e.episode_return * e.episode_return END), "
        f"avg(CASE WHEN NOT ({_SCORED}) THEN NULL WHEN e.success IS NULL THEN NULL WHEN e.success THEN 1.0 ELSE 0.0 END) "
        "FROM episodes e JOIN runs r ON r.id = e.run_id WHERE r.status = 'complete' "
        "GROUP BY e.run_id, e.task_id, e.seed, e.decision_interval"
    )


def downgrade() -> None:
    op.execute("DELETE FROM seed_means")
    with op.batch_alter_table('seed_means', schema=None) as batch_op:
        batch_op.drop_column('mean_square_return')
        batch_op.drop_column('failed')
        batch_op.drop_column('recorded')
        batch_op.alter_column('mean_return', existing_type=sa.Float(), nullable=False)
    op.execute(
        "INSERT INTO seed_means (run_id, task_id, seed, decision_interval, episodes, mean_return, success_rate) "
        "SELECT e.run_id, e.task_id, e.seed, e.decision_interval, count(*), avg(e.episode_return), "
        "avg(CASE WHEN e.success IS NULL THEN NULL WHEN e.success THEN 1.0 ELSE 0.0 END) "
        f"FROM episodes e JOIN runs r ON r.id = e.run_id WHERE r.status = 'complete' AND {_SCORED} "
        "GROUP BY e.run_id, e.task_id, e.seed, e.decision_interval"
    )
