"""Initial schema: agents, protocols, runs, run_tasks, episodes.

Revision ID: 0001_initial
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = '0001_initial'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    _create_agents()
    _create_protocols()
    _create_runs()
    _create_episodes()
    _create_run_tasks()


def _create_agents() -> None:
    op.create_table('agents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('reference', sa.String(length=1000), nullable=False),
    sa.Column('version', sa.String(length=200), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('reference', 'content_hash', name='uq_agents_reference_hash')
    )


def _create_protocols() -> None:
    op.create_table('protocols',
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.Column('task_id', sa.String(length=200), nullable=False),
    sa.Column('family', sa.String(length=100), nullable=False),
    sa.Column('spec', sa.JSON(), nullable=False),
    sa.Column('seeds', sa.JSON(), nullable=False),
    sa.Column('episodes_per_seed', sa.Integer(), nullable=False),
    sa.Column('simulator_versions', sa.JSON(), nullable=False),
    sa.Column('metric_definitions', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('hash')
    )
    with op.batch_alter_table('protocols', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_protocols_task_id'), ['task_id'], unique=False)


def _create_runs() -> None:
    op.create_table('runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=False),
    sa.Column('suite', sa.String(length=200), nullable=True),
    sa.Column('protocol_hash', sa.String(length=64), nullable=False),
    sa.Column('config_hash', sa.String(length=64), nullable=False),
    sa.Column('config', sa.JSON(), nullable=False),
    sa.Column('provenance', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['agent_id'], ['agents.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_runs_agent_id'), ['agent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_runs_config_hash'), ['config_hash'], unique=False)
        batch_op.create_index(batch_op.f('ix_runs_protocol_hash'), ['protocol_hash'], unique=False)
        batch_op.create_index(batch_op.f('ix_runs_status'), ['status'], unique=False)


def _create_episodes() -> None:
    op.create_table('episodes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.String(length=200), nullable=False),
    sa.Column('seed', sa.BigInteger(), nullable=False),
    sa.Column('episode', sa.Integer(), nullable=False),
    sa.Column('episode_seed', sa.BigInteger(), nullable=False),
    sa.Column('episode_return', sa.Float(), nullable=False),
    sa.Column('length', sa.Integer(), nullable=False),
    sa.Column('success', sa.Boolean(), nullable=True),
    sa.Column('terminated', sa.Boolean(), nullable=False),
    sa.Column('truncated', sa.Boolean(), nullable=False),
    sa.Column('env_steps', sa.Integer(), nullable=False),
    sa.Column('wall_seconds', sa.Float(), nullable=False),
    sa.Column('agent_returns', sa.JSON(), nullable=True),
    sa.Column('extra', sa.JSON(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['runs.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('run_id', 'task_id', 'seed', 'episode', name='uq_episodes_run_task_seed_episode')
    )
    with op.batch_alter_table('episodes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_episodes_run_id'), ['run_id'], unique=False)


def _create_run_tasks() -> None:
    op.create_table('run_tasks',
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.String(length=200), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('protocol_hash', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['protocol_hash'], ['protocols.hash'], ),
    sa.ForeignKeyConstraint(['run_id'], ['runs.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('run_id', 'task_id')
    )
    with op.batch_alter_table('run_tasks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_run_tasks_protocol_hash'), ['protocol_hash'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('run_tasks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_run_tasks_protocol_hash'))

    op.drop_table('run_tasks')
    with op.batch_alter_table('episodes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_episodes_run_id'))

    op.drop_table('episodes')
    with op.batch_alter_table('runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_runs_status'))
        batch_op.drop_index(batch_op.f('ix_runs_protocol_hash'))
        batch_op.drop_index(batch_op.f('ix_runs_config_hash'))
        batch_op.drop_index(batch_op.f('ix_runs_agent_id'))

    op.drop_table('runs')
    with op.batch_alter_table('protocols', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_protocols_task_id'))

    op.drop_table('protocols')
    op.drop_table('agents')
