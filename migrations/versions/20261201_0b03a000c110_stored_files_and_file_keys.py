"""Stored files in the database (the `database` storage backend) and every file's wrapped key

Revision ID: 0b03a000c110
Revises: 1c6df309d8a3
Create Date: 2026-12-01 13:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

import akta_service.core.db

# revision identifiers, used by Alembic.
revision = "0b03a000c110"
down_revision = "1c6df309d8a3"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "stored_files",
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("created_at", akta_service.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_stored_files")),
    )
    if op.get_bind().dialect.name == "postgresql":
        # Ciphertext does not compress: keep it out of line, uncompressed (no wasted CPU).
        op.execute("ALTER TABLE stored_files ALTER COLUMN data SET STORAGE EXTERNAL")
    op.create_table(
        "storage_file_keys",
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("master_key_id", sa.String(length=40), nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", akta_service.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_storage_file_keys")),
    )
    with op.batch_alter_table("storage_file_keys", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_storage_file_keys_master_key_id"), ["master_key_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("storage_file_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_storage_file_keys_master_key_id"))
    op.drop_table("storage_file_keys")
    op.drop_table("stored_files")
