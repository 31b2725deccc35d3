"""rate_counter: rate-limit windows shared by every worker and kept across restarts

Revision ID: wb_0001
Revises: wa_0001
Create Date: 2026-12-03 15:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'wb_0001'
down_revision: str | None = "wa_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('rate_counter',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('window_start_ms', sa.BigInteger(), nullable=False),
    sa.Column('expires_at_ms', sa.BigInteger(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_rate_counter'))
    )
    op.create_index(op.f('ix_rate_counter_expires_at_ms'), 'rate_counter', ['expires_at_ms'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_rate_counter_expires_at_ms'), table_name='rate_counter')
    op.drop_table('rate_counter')
