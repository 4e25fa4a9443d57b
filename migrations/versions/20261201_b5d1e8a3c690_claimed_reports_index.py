"""Who holds how many of a tab's reports is counted over the claimed reports alone: their
own partial index (the tab counts each read the tab's entries of the open reports' index)

Revision ID: b5d1e8a3c690
Revises: a6e2d9c4b871
Create Date: 2026-12-01 17:15:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b5d1e8a3c690'
down_revision = 'a6e2d9c4b871'
branch_labels = None
depends_on = None

CLAIMED = "assigned_to_id IS NOT NULL"


def upgrade():
    with op.batch_alter_table("birth_reports", schema=None) as batch_op:
        batch_op.create_index(
            "ix_birth_reports_claimed",
            ["region_code", "status", "is_late", "potential_duplicate",
             "dukcapil_unavailable", "dukcapil_unavailable_since", "assigned_to_id"],
            unique=False,
            postgresql_where=sa.text(CLAIMED), sqlite_where=sa.text(CLAIMED),
        )


def downgrade():
    with op.batch_alter_table("birth_reports", schema=None) as batch_op:
        batch_op.drop_index("ix_birth_reports_claimed")
