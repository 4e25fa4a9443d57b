"""Akta correction requests (parents, facilities), staff copies counted, KIA cards

Revision ID: 3f8d2c71a9e4
Revises: 0b03a000c110
Create Date: 2026-12-01 12:53:28.648844

"""
from alembic import op
import sqlalchemy as sa
import akta_service.core.db
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '3f8d2c71a9e4'
down_revision = '0b03a000c110'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('akta_correction_requests',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('report_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('status', sa.Enum('requested', 'approved', 'refused', 'issued', name='correction_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('changes', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('supporting_document_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('requested_by', sa.String(length=120), nullable=False),
    sa.Column('requested_at', akta_service.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', akta_service.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decision_reason', sa.Text(), nullable=True),
    sa.Column('akta_document_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.CheckConstraint("(status = 'issued') = (akta_document_id IS NOT NULL)", name=op.f('ck_akta_correction_requests_issued_has_version')),
    sa.CheckConstraint("(status = 'requested') = (decided_at IS NULL)", name=op.f('ck_akta_correction_requests_decided_unless_requested')),
    sa.CheckConstraint("status <> 'refused' OR decision_reason IS NOT NULL", name=op.f('ck_akta_correction_requests_refusal_has_reason')),
    sa.ForeignKeyConstraint(['akta_document_id'], ['akta_documents.id'], name=op.f('fk_akta_correction_requests_akta_document_id_akta_documents')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_akta_correction_requests_decided_by_id_users')),
    sa.ForeignKeyConstraint(['report_id'], ['birth_reports.id'], name=op.f('fk_akta_correction_requests_report_id_birth_reports')),
    sa.ForeignKeyConstraint(['supporting_document_id'], ['documents.id'], name=op.f('fk_akta_correction_requests_supporting_document_id_documents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_akta_correction_requests'))
    )
    with op.batch_alter_table('akta_correction_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_akta_correction_requests_report_id'), ['report_id'], unique=False)
        batch_op.create_index('uq_akta_correction_open_per_report', ['report_id'], unique=True, postgresql_where=sa.text("status IN ('requested', 'approved')"), sqlite_where=sa.text("status IN ('requested', 'approved')"))

    op.create_table('kia_cards',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('report_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('akta_document_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('child_nik', sa.String(length=16), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('storage_key', sa.String(length=300), nullable=False),
    sa.Column('issued_at', akta_service.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("length(sha256) = 64 AND ltrim(sha256, '0123456789abcdef') = ''", name=op.f('ck_kia_cards_sha256_hex')),
    sa.ForeignKeyConstraint(['akta_document_id'], ['akta_documents.id'], name=op.f('fk_kia_cards_akta_document_id_akta_documents')),
    sa.ForeignKeyConstraint(['report_id'], ['birth_reports.id'], name=op.f('fk_kia_cards_report_id_birth_reports')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kia_cards')),
    sa.UniqueConstraint('akta_document_id', name=op.f('uq_kia_cards_akta_document_id')),
    sa.UniqueConstraint('storage_key', name=op.f('uq_kia_cards_storage_key'))
    )
    with op.batch_alter_table('kia_cards', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kia_cards_report_id'), ['report_id'], unique=False)

    with op.batch_alter_table('akta_documents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('staff_copies', sa.Integer(), server_default='0', nullable=False))



def downgrade():
    with op.batch_alter_table('akta_documents', schema=None) as batch_op:
        batch_op.drop_column('staff_copies')

    with op.batch_alter_table('kia_cards', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kia_cards_report_id'))

    op.drop_table('kia_cards')
    with op.batch_alter_table('akta_correction_requests', schema=None) as batch_op:
        batch_op.drop_index('uq_akta_correction_open_per_report', postgresql_where=sa.text("status IN ('requested', 'approved')"), sqlite_where=sa.text("status IN ('requested', 'approved')"))
        batch_op.drop_index(batch_op.f('ix_akta_correction_requests_report_id'))

    op.drop_table('akta_correction_requests')
