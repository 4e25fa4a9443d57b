"""The journal as hash chains (each entry's hash and its predecessor's) and the office's
daily signed seals of the chain heads

Entries written before this migration keep no hash (legacy): a chain starts at its first
entry written after it. The seals are append-only, like the journal.

Revision ID: c4a1f7e9b2d3
Revises: 7a3b9c2e4f10
Create Date: 2026-12-01 12:00:00

"""
from alembic import op
import sqlalchemy as sa

import akta_service.core.db
from akta_service.core.journal_guard import drop_append_only_guard, install_append_only_guard


# revision identifiers, used by Alembic.
revision = 'c4a1f7e9b2d3'
down_revision = '7a3b9c2e4f10'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('journal_entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('chain', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('prev_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('entry_hash', sa.String(length=64), nullable=True))
        batch_op.create_index(
            'ix_journal_entries_chain', ['chain', 'id'], unique=False,
            postgresql_where=sa.text('chain IS NOT NULL'),
            sqlite_where=sa.text('chain IS NOT NULL'),
        )

    op.create_table('journal_seals',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('sealed_through', akta_service.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('chains', sa.Integer(), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('signature', sa.String(length=88), nullable=False),
    sa.Column('key_id', sa.String(length=16), nullable=False),
    sa.Column('sealed_at', akta_service.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_journal_seals')),
    sa.UniqueConstraint('sealed_through', name=op.f('uq_journal_seals_sealed_through'))
    )
    install_append_only_guard(op.get_bind(), 'journal_seals')


def downgrade():
    drop_append_only_guard(op.get_bind(), 'journal_seals')
    op.drop_table('journal_seals')
    # SQLite rebuilds the table to drop columns, and its triggers with it: guard it again.
    drop_append_only_guard(op.get_bind(), 'journal_entries')
    with op.batch_alter_table('journal_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_journal_entries_chain')
        batch_op.drop_column('entry_hash')
        batch_op.drop_column('prev_hash')
        batch_op.drop_column('chain')
    install_append_only_guard(op.get_bind(), 'journal_entries')
