"""action_item: actions proposed by a workshop (status 'proposed', proposed_by) until a unit member adopts them

The status CHECK changes, so SQLite rebuilds the table (batch mode). Downgrading turns proposed actions into
planned ones (the old schema has no 'proposed'), so nothing is lost but the workshop's name.

Revision ID: wj_0002
Revises: wj_0001
Create Date: 2026-12-03 18:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'wj_0002'
down_revision: str | None = 'wj_0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD = "status IN ('planned','in_progress','done','dropped')"
NEW = "status IN ('proposed','planned','in_progress','done','dropped')"


def upgrade() -> None:
    with op.batch_alter_table('action_item', schema=None) as batch_op:
        batch_op.add_column(sa.Column('proposed_by', sa.String(length=200), server_default='', nullable=False))
        batch_op.drop_constraint(batch_op.f('ck_action_item_status_known'), type_='check')
        batch_op.create_check_constraint('status_known', NEW)


def downgrade() -> None:
    op.execute("UPDATE action_item SET status = 'planned' WHERE status = 'proposed'")
    with op.batch_alter_table('action_item', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_action_item_status_known'), type_='check')
        batch_op.create_check_constraint('status_known', OLD)
        batch_op.drop_column('proposed_by')
