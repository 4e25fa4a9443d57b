"""The informant's relation to the child is an enum column like every other: its own
length and the CHECK that it is a known relation

Revision ID: f928fbe89881
Revises: 17e82d3be74a
Create Date: 2026-12-01 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f928fbe89881'
down_revision = '17e82d3be74a'
branch_labels = None
depends_on = None

RELATIONS = ('mother', 'father', 'head_of_family', 'grandparent', 'family_member')


def upgrade():
    with op.batch_alter_table('birth_reports', schema=None) as batch_op:
        batch_op.alter_column(
            'informant_relation', existing_type=sa.String(length=30), type_=sa.String(length=14),
            existing_nullable=False,
        )
        batch_op.create_check_constraint(
            op.f('ck_birth_reports_informant_relation'),
            "informant_relation IN ({})".format(", ".join(f"'{r}'" for r in RELATIONS)),
        )


def downgrade():
    with op.batch_alter_table('birth_reports', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_birth_reports_informant_relation'), type_='check')
        batch_op.alter_column(
            'informant_relation', existing_type=sa.String(length=14), type_=sa.String(length=30),
            existing_nullable=False,
        )
