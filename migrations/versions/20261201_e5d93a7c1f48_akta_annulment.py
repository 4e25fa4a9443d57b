"""An issued akta can be annulled (a court order or a void registration): the report's
status `annulled`, which keeps its registration number, and on each akta version when,
why and on what evidence

Revision ID: e5d93a7c1f48
Revises: b47c5e1e5b47
Create Date: 2026-12-01 13:30:00

"""
from alembic import op
import sqlalchemy as sa

import akta_service.core.db


# revision identifiers, used by Alembic.
revision = 'e5d93a7c1f48'
down_revision = 'b47c5e1e5b47'
branch_labels = None
depends_on = None

BEFORE = (
    'submitted', 'verifying', 'needs_correction', 'in_review', 'awaiting_signature',
    'registered', 'issued', 'rejected', 'cancelled',
)
AFTER = (*BEFORE[:7], 'annulled', *BEFORE[7:])
NUMBERED_BEFORE = "(status IN ('registered', 'issued')) = (registration_number IS NOT NULL)"
NUMBERED_AFTER = (
    "(status IN ('registered', 'issued', 'annulled')) = (registration_number IS NOT NULL)"
)


def _listed(values):
    return ", ".join(f"'{value}'" for value in values)


def _statuses(allowed, numbered):
    with op.batch_alter_table('birth_reports', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_birth_reports_report_status'), type_='check')
        batch_op.drop_constraint(
            op.f('ck_birth_reports_registration_number_iff_registered'), type_='check'
        )
        batch_op.create_check_constraint(
            op.f('ck_birth_reports_report_status'), f"status IN ({_listed(allowed)})"
        )
        batch_op.create_check_constraint(
            op.f('ck_birth_reports_registration_number_iff_registered'),
            numbered,
        )


def upgrade():
    with op.batch_alter_table('akta_documents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('annulled_at', akta_service.core.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('annulment_reason', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column(
            'annulment_document_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
            nullable=True,
        ))
        batch_op.create_foreign_key(
            op.f('fk_akta_documents_annulment_document_id_documents'),
            'documents', ['annulment_document_id'], ['id'],
        )
    _statuses(AFTER, NUMBERED_AFTER)


def downgrade():
    _statuses(BEFORE, NUMBERED_BEFORE)
    with op.batch_alter_table('akta_documents', schema=None) as batch_op:
        batch_op.drop_constraint(
            op.f('fk_akta_documents_annulment_document_id_documents'), type_='foreignkey'
        )
        batch_op.drop_column('annulment_document_id')
        batch_op.drop_column('annulled_at')
        batch_op.drop_column('annulment_reason')
