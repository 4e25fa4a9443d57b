"""The class of a webhook delivery's last outcome (2xx, 4xx, timeout, refused...), which is
all the delivery log shows: never the receiver's answer or an error's text

Revision ID: 5e1f0c4a7d21
Revises: f928fbe89881
Create Date: 2026-12-01 10:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5e1f0c4a7d21'
down_revision = 'f928fbe89881'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_result', sa.String(length=12), nullable=True))
    # Earlier attempts kept the error's text; the log now shows only what kind of outcome.
    deliveries = sa.table(
        'deliveries',
        sa.column('channel', sa.String),
        sa.column('last_error', sa.Text),
        sa.column('last_status_code', sa.Integer),
        sa.column('last_result', sa.String),
    )
    webhook = deliveries.c.channel == 'webhook'
    for digit in '12345':
        op.execute(
            deliveries.update()
            .where(webhook, deliveries.c.last_error.like(f'webhook answered HTTP {digit}%'))
            .values(last_error=f'webhook: {digit}xx', last_result=f'{digit}xx')
        )
    op.execute(
        deliveries.update()
        .where(webhook, deliveries.c.last_result.is_(None), deliveries.c.last_error.like('%Timeout%'))
        .values(last_error='webhook: timeout', last_result='timeout')
    )
    op.execute(
        deliveries.update()
        .where(webhook, deliveries.c.last_result.is_(None), deliveries.c.last_error.is_not(None))
        .values(last_error='webhook: unreachable', last_result='unreachable')
    )
    op.execute(
        deliveries.update()
        .where(webhook, deliveries.c.last_result.is_(None), deliveries.c.last_status_code.is_not(None))
        .values(last_result='2xx')
    )


def downgrade():
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_column('last_result')
