"""Pictures of each document, made once on upload: the table and two columns of documents

Revision ID: d0c5a1f7e3b2
Revises: a7c2f0e13b55
Create Date: 2026-12-01 10:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "d0c5a1f7e3b2"
down_revision = "a7c2f0e13b55"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pages", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("picture_refusal", sa.String(length=40), nullable=True))
    op.create_table(
        "document_pictures",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "document_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("page", sa.Integer(), nullable=False),
        sa.Column("content_type", sa.String(length=40), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("storage_key", sa.String(length=300), nullable=False),
        sa.CheckConstraint("page > 0", name=op.f("ck_document_pictures_page_positive")),
        sa.CheckConstraint(
            "content_type IN ('image/jpeg', 'image/png')",
            name=op.f("ck_document_pictures_content_type_picture"),
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_document_pictures_document_id_documents"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_pictures")),
        sa.UniqueConstraint("document_id", "page", name="uq_document_picture_page"),
        sa.UniqueConstraint("storage_key", name=op.f("uq_document_pictures_storage_key")),
    )
    with op.batch_alter_table("document_pictures", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_document_pictures_document_id"), ["document_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("document_pictures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_document_pictures_document_id"))
    op.drop_table("document_pictures")
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_column("picture_refusal")
        batch_op.drop_column("pages")
