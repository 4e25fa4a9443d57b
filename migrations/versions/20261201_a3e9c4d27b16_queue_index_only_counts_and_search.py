"""The queue at a million reports: who holds a tab's reports is counted from the open
reports' index with the counts (it gains the holder), and a name search's walk in waiting
order filters on the names inside the waiting-order index (PostgreSQL: INCLUDE)

Revision ID: a3e9c4d27b16
Revises: 3f8d2c71a9e4
Create Date: 2026-12-01 16:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a3e9c4d27b16'
down_revision = '3f8d2c71a9e4'
branch_labels = None
depends_on = None

OPEN = "status IN ('submitted', 'verifying', 'needs_correction', 'in_review', 'awaiting_signature')"
OPEN_COLUMNS = ["region_code", "status", "is_late", "potential_duplicate",
                "dukcapil_unavailable", "dukcapil_unavailable_since"]
NAMES = ["region_code", "child_name", "mother_name"]


def _open_index(batch_op, columns):
    batch_op.create_index(
        "ix_birth_reports_open", columns, unique=False,
        postgresql_where=sa.text(OPEN), sqlite_where=sa.text(OPEN),
    )


def upgrade():
    with op.batch_alter_table("birth_reports", schema=None) as batch_op:
        batch_op.drop_index("ix_birth_reports_open")
        _open_index(batch_op, [*OPEN_COLUMNS, "assigned_to_id"])
        batch_op.drop_index("ix_birth_reports_since")
        batch_op.create_index(
            "ix_birth_reports_since", ["status_since", "id"], unique=False,
            postgresql_include=NAMES,
        )


def downgrade():
    with op.batch_alter_table("birth_reports", schema=None) as batch_op:
        batch_op.drop_index("ix_birth_reports_since")
        batch_op.create_index("ix_birth_reports_since", ["status_since", "id"], unique=False)
        batch_op.drop_index("ix_birth_reports_open")
        _open_index(batch_op, OPEN_COLUMNS)
