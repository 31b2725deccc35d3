"""resume_point: where each person continues an assessment (replaces writing assessment.last_section on GET)

Revision ID: wa_0001
Revises: 0003
Create Date: 2026-12-03 15:45:00

assessment.last_section stays in the schema, unused, so this migration only adds a table (dropping the column
would rebuild the assessment table on SQLite); a later migration may drop it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'wa_0001'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('resume_point',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('assessment_id', sa.Integer(), nullable=False),
    sa.Column('section', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['assessment_id'], ['assessment.id'],
                            name=op.f('fk_resume_point_assessment_id_assessment'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'],
                            name=op.f('fk_resume_point_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'assessment_id', name=op.f('pk_resume_point'))
    )
    with op.batch_alter_table('resume_point', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_resume_point_assessment_id'), ['assessment_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('resume_point', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_resume_point_assessment_id'))
    op.drop_table('resume_point')
