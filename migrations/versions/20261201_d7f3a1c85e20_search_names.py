"""A name search reads one column the database keeps: the child's and the mother's names in
lower case (LIKE on it costs a tenth of ILIKE on each name), with its trigram index and in
the waiting-order index in place of the two names

PostgreSQL writes the column into every row: the table is rewritten with its indexes (at a
million reports on two busy cores: 69 s, then 17 s for the trigram index), then the column is
analysed.

Revision ID: d7f3a1c85e20
Revises: b5d1e8a3c690
Create Date: 2026-12-01 20:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd7f3a1c85e20'
down_revision = 'b5d1e8a3c690'
branch_labels = None
depends_on = None

NAMES = ("child_name", "mother_name")
SEARCH_NAMES = "lower(child_name) || '\n' || lower(mother_name)"


def _trigram_index(batch_op, column):
    batch_op.create_index(
        f"ix_birth_reports_{column}_trgm", [column], unique=False,
        postgresql_using="gin", postgresql_ops={column: "gin_trgm_ops"},
    )


def _since_index(batch_op, included):
    batch_op.create_index(
        "ix_birth_reports_since", ["status_since", "id"], unique=False,
        postgresql_include=["region_code", *included],
    )


def _statistics(columns, target):
    # A surname borne by one mother in seventy is missed by the default sample, and the
    # planner then sorts thousands of matches instead of walking the waiting order.
    if op.get_bind().dialect.name == "postgresql":
        for column in columns:
            op.execute(f"ALTER TABLE birth_reports ALTER COLUMN {column} SET STATISTICS {target}")


def upgrade():
    # SQLite adds no stored generated column to a table: it builds the table anew.
    with op.batch_alter_table("birth_reports", schema=None, recreate="auto") as batch_op:
        batch_op.drop_index("ix_birth_reports_since")
        for column in NAMES:
            batch_op.drop_index(f"ix_birth_reports_{column}_trgm")
    recreate = "always" if op.get_bind().dialect.name == "sqlite" else "auto"
    with op.batch_alter_table("birth_reports", schema=None, recreate=recreate) as batch_op:
        batch_op.add_column(
            sa.Column(
                "search_names", sa.Text(), sa.Computed(SEARCH_NAMES, persisted=True),
                nullable=True,
            )
        )
    with op.batch_alter_table("birth_reports", schema=None) as batch_op:
        _trigram_index(batch_op, "search_names")
        _since_index(batch_op, ["search_names"])
    _statistics(NAMES, -1)
    _statistics(["search_names"], 1000)
    if op.get_bind().dialect.name == "postgresql":
        # Until the new column has statistics the planner guesses how many names match, and
        # may walk the whole waiting order for a rare one: a rewrite does not wake autovacuum.
        op.execute("ANALYZE birth_reports (search_names)")


def downgrade():
    with op.batch_alter_table("birth_reports", schema=None) as batch_op:
        batch_op.drop_index("ix_birth_reports_since")
        batch_op.drop_index("ix_birth_reports_search_names_trgm")
    recreate = "always" if op.get_bind().dialect.name == "sqlite" else "auto"
    with op.batch_alter_table("birth_reports", schema=None, recreate=recreate) as batch_op:
        batch_op.drop_column("search_names")
    with op.batch_alter_table("birth_reports", schema=None) as batch_op:
        for column in NAMES:
            _trigram_index(batch_op, column)
        _since_index(batch_op, list(NAMES))
    _statistics(NAMES, 1000)
