"""When each report entered its current status, for the queue's waiting time and order:
backfilled from the journal's last move into that status (the submission for a report
never moved), and the queue's indexes on it

Revision ID: 1c6df309d8a3
Revises: 3f6c1a9e2d84
Create Date: 2026-12-01 13:30:00

"""
from alembic import op
import sqlalchemy as sa
import akta_service.core.db


# revision identifiers, used by Alembic.
revision = '1c6df309d8a3'
down_revision = '3f6c1a9e2d84'
branch_labels = None
depends_on = None

OPEN = "status IN ('submitted', 'verifying', 'needs_correction', 'in_review', 'awaiting_signature')"
TRUE = {"postgresql": "true", "sqlite": "1"}

BACKFILL = """
UPDATE birth_reports SET status_since = COALESCE(
    (SELECT MAX(j.occurred_at) FROM journal_entries j
     WHERE j.report_id = birth_reports.id AND j.to_state = CAST(birth_reports.status AS VARCHAR(30))),
    submitted_at)
"""


def _where(flag):
    return {
        f"{dialect}_where": sa.text(f"{flag} IS {true} AND {OPEN}")
        for dialect, true in TRUE.items()
    }


def _queue_indexes(batch_op, column):
    batch_op.create_index(
        "ix_birth_reports_duplicate_queue", [column, "id"], unique=False,
        **_where("potential_duplicate"),
    )
    batch_op.create_index(
        "ix_birth_reports_late_queue", [column, "id"], unique=False, **_where("is_late"),
    )


def upgrade():
    with op.batch_alter_table('birth_reports', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('status_since', akta_service.core.db.UTCDateTime(timezone=True), nullable=True)
        )
    op.execute(BACKFILL)
    with op.batch_alter_table('birth_reports', schema=None) as batch_op:
        batch_op.alter_column(
            'status_since',
            existing_type=akta_service.core.db.UTCDateTime(timezone=True),
            nullable=False,
        )
        batch_op.drop_index("ix_birth_reports_duplicate_queue")
        batch_op.drop_index("ix_birth_reports_late_queue")
        _queue_indexes(batch_op, "status_since")
        batch_op.create_index(
            "ix_birth_reports_status_since", ["status", "status_since", "id"], unique=False
        )
        batch_op.create_index("ix_birth_reports_since", ["status_since", "id"], unique=False)


def downgrade():
    with op.batch_alter_table('birth_reports', schema=None) as batch_op:
        batch_op.drop_index("ix_birth_reports_since")
        batch_op.drop_index("ix_birth_reports_status_since")
        batch_op.drop_index("ix_birth_reports_duplicate_queue")
        batch_op.drop_index("ix_birth_reports_late_queue")
        _queue_indexes(batch_op, "submitted_at")
        batch_op.drop_column('status_since')
