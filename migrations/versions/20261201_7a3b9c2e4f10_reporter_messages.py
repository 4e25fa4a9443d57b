"""What a reporter reads of a verification check: which field does not match and what to
check, never what Dukcapil holds about third parties (clerks keep the whole message)

Revision ID: 7a3b9c2e4f10
Revises: 5e1f0c4a7d21
Create Date: 2026-12-01 10:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7a3b9c2e4f10'
down_revision = '5e1f0c4a7d21'
branch_labels = None
depends_on = None

#: Checks recorded before this revision whose warning told the reporter a third party's
#: facts (a parent's death or move, the KK's children, another report's code): the reporter
#: reads these words instead; clerks keep the whole message.
_EARLIER_WARNINGS = {
    'mother_registry': (
        "Data ibu perlu diperiksa petugas dengan catatan Dukcapil. Anda tidak perlu mengubah "
        "apa pun; petugas menghubungi Anda bila perlu."
    ),
    'father_registry': (
        "Data ayah perlu diperiksa petugas dengan catatan Dukcapil. Anda tidak perlu mengubah "
        "apa pun; petugas menghubungi Anda bila perlu."
    ),
    'plausibility': (
        "Anak ke- tidak sesuai dengan KK. Periksa isian anak ke- (urutan kelahiran dari ibu "
        "ini); petugas akan memeriksa."
    ),
    'duplicate': (
        "Nama anak, ibu dan tanggal lahir mirip kelahiran yang sudah dilaporkan. Petugas akan "
        "memeriksa apakah laporan ini ganda; Anda tidak perlu mengubah apa pun."
    ),
}


def upgrade():
    with op.batch_alter_table('verification_checks', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('reporter_message', sa.Text(), server_default='', nullable=False)
        )
    checks = sa.table(
        'verification_checks',
        sa.column('name', sa.String),
        sa.column('outcome', sa.String),
        sa.column('reporter_message', sa.Text),
    )
    for name, words in _EARLIER_WARNINGS.items():
        op.execute(
            checks.update()
            .where(checks.c.name == name, checks.c.outcome == 'warning')
            .values(reporter_message=words)
        )


def downgrade():
    with op.batch_alter_table('verification_checks', schema=None) as batch_op:
        batch_op.drop_column('reporter_message')
