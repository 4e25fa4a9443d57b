"""Batch signing: the reports of each batch a pejabat signed, and why one failed

Revision ID: b47c5e1e5b47
Revises: 5a9e51c0ffee
Create Date: 2026-12-01 11:00:00

"""
from alembic import op
import sqlalchemy as sa
import akta_service.core.db


# revision identifiers, used by Alembic.
revision = 'b47c5e1e5b47'
down_revision = '5a9e51c0ffee'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'signing_batch_items',
        sa.Column('batch_id', sa.String(length=32), nullable=False),
        sa.Column('report_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('signer_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('failure', sa.String(length=60), nullable=True),
        sa.Column('created_at', akta_service.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['report_id'], ['birth_reports.id'], name=op.f('fk_signing_batch_items_report_id_birth_reports')),
        sa.ForeignKeyConstraint(['signer_id'], ['users.id'], name=op.f('fk_signing_batch_items_signer_id_users')),
        sa.PrimaryKeyConstraint('batch_id', 'report_id', name=op.f('pk_signing_batch_items')),
    )
    with op.batch_alter_table('signing_batch_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_signing_batch_items_signer_id'), ['signer_id'], unique=False)


def downgrade():
    with op.batch_alter_table('signing_batch_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_signing_batch_items_signer_id'))
    op.drop_table('signing_batch_items')
