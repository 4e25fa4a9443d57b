"""The officer's own signature: staff NIK (signing identity) and signing authorisations

Revision ID: 5a9e51c0ffee
Revises: d0c5a1f7e3b2
Create Date: 2026-12-01 10:00:00

"""
from alembic import op
import sqlalchemy as sa
import akta_service.core.db


# revision identifiers, used by Alembic.
revision = '5a9e51c0ffee'
down_revision = 'd0c5a1f7e3b2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('nik', sa.String(length=16), nullable=True))
    op.create_table(
        'signing_authorisations',
        sa.Column('report_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('signer_id', sa.Integer(), nullable=False),
        sa.Column('sealed', sa.Text(), nullable=False),
        sa.Column('expires_at', akta_service.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('created_at', akta_service.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['report_id'], ['birth_reports.id'], name=op.f('fk_signing_authorisations_report_id_birth_reports')),
        sa.ForeignKeyConstraint(['signer_id'], ['users.id'], name=op.f('fk_signing_authorisations_signer_id_users')),
        sa.PrimaryKeyConstraint('report_id', name=op.f('pk_signing_authorisations')),
    )


def downgrade():
    op.drop_table('signing_authorisations')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('nik')
