"""action_item: each unit's action plan against the gaps of its assessments (issue 17)

Revision ID: wj_0001
Revises: i13_0001
Create Date: 2026-12-03 16:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'wj_0001'
down_revision: str | None = 'i13_0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('action_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('recommendation_id', sa.String(length=40), nullable=False),
    sa.Column('content_version', sa.String(length=32), nullable=False),
    sa.Column('assessment_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('owner_name', sa.String(length=200), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('drop_reason', sa.Text(), nullable=False),
    sa.Column('progress_note', sa.Text(), nullable=False),
    sa.Column('evidence', sa.Text(), nullable=False),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('supervisor_remark', sa.Text(), nullable=False),
    sa.Column('remark_by_id', sa.Integer(), nullable=True),
    sa.Column('remark_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.CheckConstraint("status IN ('planned','in_progress','done','dropped')",
                       name=op.f('ck_action_item_status_known')),
    sa.CheckConstraint("status <> 'dropped' OR drop_reason <> ''", name=op.f('ck_action_item_drop_has_reason')),
    sa.ForeignKeyConstraint(['assessment_id'], ['assessment.id'],
                            name=op.f('fk_action_item_assessment_id_assessment'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'],
                            name=op.f('fk_action_item_created_by_id_user_account')),
    sa.ForeignKeyConstraint(['owner_id'], ['user_account.id'], name=op.f('fk_action_item_owner_id_user_account')),
    sa.ForeignKeyConstraint(['remark_by_id'], ['user_account.id'],
                            name=op.f('fk_action_item_remark_by_id_user_account')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_action_item_unit_id_unit')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['user_account.id'],
                            name=op.f('fk_action_item_updated_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_action_item'))
    )
    with op.batch_alter_table('action_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_action_item_assessment_id'), ['assessment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_action_item_unit_id'), ['unit_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('action_item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_action_item_unit_id'))
        batch_op.drop_index(batch_op.f('ix_action_item_assessment_id'))
    op.drop_table('action_item')
