"""The updated KK of the 3-in-1 printed and signed in the issue step; why a signed report's
issue step last failed

Revision ID: a6e2d9c4b871
Revises: a3e9c4d27b16
Create Date: 2026-12-01 16:30:00

"""
from alembic import op
import sqlalchemy as sa

import akta_service.core.db


# revision identifiers, used by Alembic.
revision = 'a6e2d9c4b871'
down_revision = 'a3e9c4d27b16'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('kk_prints',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('report_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('akta_document_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kk_number', sa.String(length=16), nullable=False),
    sa.Column('head_name', sa.String(length=200), nullable=False),
    sa.Column('head_nik', sa.String(length=16), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('storage_key', sa.String(length=300), nullable=False),
    sa.Column('issued_at', akta_service.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("length(sha256) = 64 AND ltrim(sha256, '0123456789abcdef') = ''", name=op.f('ck_kk_prints_sha256_hex')),
    sa.ForeignKeyConstraint(['akta_document_id'], ['akta_documents.id'], name=op.f('fk_kk_prints_akta_document_id_akta_documents')),
    sa.ForeignKeyConstraint(['report_id'], ['birth_reports.id'], name=op.f('fk_kk_prints_report_id_birth_reports')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kk_prints')),
    sa.UniqueConstraint('report_id', name=op.f('uq_kk_prints_report_id')),
    sa.UniqueConstraint('storage_key', name=op.f('uq_kk_prints_storage_key'))
    )
    op.create_table('issue_failures',
    sa.Column('report_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=False),
    sa.Column('code', sa.String(length=60), nullable=False),
    sa.Column('failed_at', akta_service.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['report_id'], ['birth_reports.id'], name=op.f('fk_issue_failures_report_id_birth_reports')),
    sa.PrimaryKeyConstraint('report_id', name=op.f('pk_issue_failures'))
    )


def downgrade():
    op.drop_table('issue_failures')
    op.drop_table('kk_prints')
