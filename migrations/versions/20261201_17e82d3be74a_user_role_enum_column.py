"""A staff user's role is an enum column like every other: the role's own length and the
CHECK that it is a known role (beside the CHECK that it is a staff role)

Revision ID: 17e82d3be74a
Revises: 9c3d4e5f6a7b
Create Date: 2026-12-01 09:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '17e82d3be74a'
down_revision = '9c3d4e5f6a7b'
branch_labels = None
depends_on = None

ROLES = ('system', 'informant', 'facility', 'operator', 'pejabat', 'admin', 'viewer')


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column(
            'role', existing_type=sa.String(length=20), type_=sa.String(length=9),
            existing_nullable=False,
        )
        batch_op.create_check_constraint(
            op.f('ck_users_role'), "role IN ({})".format(", ".join(f"'{r}'" for r in ROLES))
        )


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_users_role'), type_='check')
        batch_op.alter_column(
            'role', existing_type=sa.String(length=9), type_=sa.String(length=20),
            existing_nullable=False,
        )
