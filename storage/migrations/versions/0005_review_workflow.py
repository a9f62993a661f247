"""Review queue: steward review in Airflow and appeals.

``kind`` tells a document the pipeline left undecided (``review``) from a rejected
applicant's appeal (``appeal``, with the applicant's ``note``); ``verdict_version`` is the
verdict the steward is asked about (for an appeal: the rejection appealed against).
``claimed_by``/``claimed_at`` mark an item shown in a pending required action, so a later
run does not ask twice; ``escalations``/``escalated_at`` count response timeouts. Plain
ADD COLUMN, as in 0003: no table rebuild on SQLite.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)
COLUMNS = ("kind", "note", "verdict_version", "claimed_by", "claimed_at", "escalations",
           "escalated_at")


def upgrade() -> None:
    op.add_column("review_queue", sa.Column("kind", sa.String(16), nullable=False,
                                            server_default="review"))
    op.add_column("review_queue", sa.Column("note", sa.Text(), nullable=True))
    op.add_column("review_queue", sa.Column("verdict_version", sa.Integer(), nullable=True))
    op.add_column("review_queue", sa.Column("claimed_by", sa.String(200), nullable=True))
    op.add_column("review_queue", sa.Column("claimed_at", TS, nullable=True))
    op.add_column("review_queue", sa.Column("escalations", sa.Integer(), nullable=False,
                                            server_default="0"))
    op.add_column("review_queue", sa.Column("escalated_at", TS, nullable=True))


def downgrade() -> None:
    for column in reversed(COLUMNS):
        op.drop_column("review_queue", column)
