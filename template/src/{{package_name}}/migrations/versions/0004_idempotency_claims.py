"""An Idempotency-Key is claimed before its request's work: no response yet.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("idempotency_keys") as batch:
        batch.alter_column("response", existing_type=sa.Text(), nullable=True)


def downgrade() -> None:
    # Claims still in progress have no response to keep.
    op.execute("DELETE FROM idempotency_keys WHERE response IS NULL")
    with op.batch_alter_table("idempotency_keys") as batch:
        batch.alter_column("response", existing_type=sa.Text(), nullable=False)
