"""pdf_cache for workshop and agency reports; report_cache.plan_key (the gap report lists the unit's actions)

Revision ID: r15_0001
Revises: wj_0002
Create Date: 2026-12-03 18:50:00

Both caches are disposable: a missing or stale row only means the next download renders the file. Existing
report_cache rows get plan_key NULL, which never matches, so they are rendered again with the actions in them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'r15_0001'
down_revision: str | None = 'wj_0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('pdf_cache',
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('object_id', sa.Integer(), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('cache_key', sa.String(length=64), nullable=False),
    sa.Column('pdf', sa.LargeBinary(), nullable=True),
    sa.Column('generated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('job_key', sa.String(length=64), nullable=True),
    sa.Column('job_started_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('kind', 'object_id', 'language', name=op.f('pk_pdf_cache'))
    )
    with op.batch_alter_table('report_cache', schema=None) as batch_op:
        batch_op.add_column(sa.Column('plan_key', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('report_cache', schema=None) as batch_op:
        batch_op.drop_column('plan_key')
    op.drop_table('pdf_cache')
