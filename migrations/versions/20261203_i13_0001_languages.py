"""languages: the account's chosen interface language; cached PDFs kept per language

The PDF cache is only a cache: it is recreated empty with the language in its key rather than migrated.

Revision ID: i13_0001
Revises: wb_0001
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "i13_0001"
down_revision: str | None = "wb_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _report_cache(with_language: bool) -> None:
    op.drop_table("report_cache")
    cols = [
        sa.Column("assessment_id", sa.Integer(), nullable=False),
        *([sa.Column("language", sa.String(length=8), nullable=False)] if with_language else []),
        sa.Column("assessment_version", sa.Integer(), nullable=False),
        sa.Column("generated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("pdf", sa.LargeBinary(), nullable=False),
    ]
    op.create_table(
        "report_cache", *cols,
        sa.ForeignKeyConstraint(["assessment_id"], ["assessment.id"],
                                name=op.f("fk_report_cache_assessment_id_assessment"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("assessment_id", *(["language"] if with_language else []),
                                name=op.f("pk_report_cache")),
    )


def upgrade() -> None:
    with op.batch_alter_table("user_account") as batch:
        batch.add_column(sa.Column("language", sa.String(length=8), nullable=True))
    _report_cache(with_language=True)


def downgrade() -> None:
    _report_cache(with_language=False)
    with op.batch_alter_table("user_account") as batch:
        batch.drop_column("language")
