"""Birth notifications from facilities: the bedside facts, the family's links, the draft that completes one

Revision ID: 3f6c1a9e2d84
Revises: e5d93a7c1f48
Create Date: 2026-12-01 12:55:19.636596

"""
from alembic import op
import sqlalchemy as sa
import akta_service.core.db
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '3f6c1a9e2d84'
down_revision = 'e5d93a7c1f48'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('notified_births',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('tracking_code', sa.String(length=12), nullable=False),
    sa.Column('facility_code', sa.String(length=20), nullable=False),
    sa.Column('region_code', sa.String(length=4), nullable=False),
    sa.Column('status', sa.Enum('notified', 'completed', 'expired', name='notification_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('provisional_name', sa.String(length=200), nullable=True),
    sa.Column('sex', sa.Enum('male', 'female', name='sex', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('birth_date', sa.Date(), nullable=False),
    sa.Column('birth_time', sa.Time(), nullable=True),
    sa.Column('birth_place', sa.String(length=200), nullable=False),
    sa.Column('birth_place_kind', sa.Enum('facility', 'home', 'other', name='birth_place_kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('birth_order', sa.SmallInteger(), nullable=False),
    sa.Column('birth_type', sa.Enum('single', 'twin', 'triplet', 'quadruplet', 'higher', name='birth_type', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('weight_grams', sa.Integer(), nullable=True),
    sa.Column('length_cm', sa.SmallInteger(), nullable=True),
    sa.Column('attendant', sa.Enum('doctor', 'midwife', 'nurse', 'other', 'none', name='attendant', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('birth_letter_number', sa.String(length=60), nullable=True),
    sa.Column('mother_nik', sa.String(length=16), nullable=False),
    sa.Column('mother_name', sa.String(length=200), nullable=False),
    sa.Column('contact_phone', sa.String(length=20), nullable=True),
    sa.Column('contact_email', sa.String(length=254), nullable=True),
    sa.Column('birth_letter', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('reminders_sent', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('next_reminder_on', sa.Date(), nullable=True),
    sa.Column('report_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('notified_at', akta_service.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('completed_at', akta_service.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('expired_at', akta_service.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('updated_at', akta_service.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("(status = 'completed') = (report_id IS NOT NULL)", name=op.f('ck_notified_births_report_iff_completed')),
    sa.CheckConstraint("length(mother_nik) = 16 AND ltrim(mother_nik, '0123456789') = ''", name=op.f('ck_notified_births_mother_nik_16_digits')),
    sa.CheckConstraint('birth_order >= 1', name=op.f('ck_notified_births_notified_birth_order_positive')),
    sa.CheckConstraint('contact_phone IS NOT NULL OR contact_email IS NOT NULL', name=op.f('ck_notified_births_family_contact_given')),
    sa.CheckConstraint('length_cm IS NULL OR length_cm BETWEEN 15 AND 70', name=op.f('ck_notified_births_notified_length_range')),
    sa.CheckConstraint('weight_grams IS NULL OR weight_grams BETWEEN 200 AND 8000', name=op.f('ck_notified_births_notified_weight_range')),
    sa.ForeignKeyConstraint(['facility_code'], ['facilities.code'], name=op.f('fk_notified_births_facility_code_facilities')),
    sa.ForeignKeyConstraint(['region_code'], ['regions.code'], name=op.f('fk_notified_births_region_code_regions')),
    sa.ForeignKeyConstraint(['report_id'], ['birth_reports.id'], name=op.f('fk_notified_births_report_id_birth_reports')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notified_births')),
    sa.UniqueConstraint('report_id', name=op.f('uq_notified_births_report_id')),
    sa.UniqueConstraint('tracking_code', name=op.f('uq_notified_births_tracking_code'))
    )
    with op.batch_alter_table('notified_births', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notified_births_facility_code'), ['facility_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_notified_births_mother_nik'), ['mother_nik'], unique=False)
        batch_op.create_index(batch_op.f('ix_notified_births_next_reminder_on'), ['next_reminder_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_notified_births_region_code'), ['region_code'], unique=False)
        batch_op.create_index('ix_notified_births_status_birth', ['status', 'birth_date', 'id'], unique=False)

    op.create_table('notification_links',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('notified_birth_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', akta_service.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', akta_service.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['notified_birth_id'], ['notified_births.id'], name=op.f('fk_notification_links_notified_birth_id_notified_births')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification_links')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_notification_links_token_hash'))
    )
    with op.batch_alter_table('notification_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notification_links_notified_birth_id'), ['notified_birth_id'], unique=False)

    op.create_table('fhir_bundle_receipts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('facility_code', sa.String(length=20), nullable=False),
    sa.Column('bundle_key', sa.String(length=300), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('tracking_code', sa.String(length=12), nullable=False),
    sa.Column('received_at', akta_service.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['facility_code'], ['facilities.code'], name=op.f('fk_fhir_bundle_receipts_facility_code_facilities')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fhir_bundle_receipts')),
    sa.UniqueConstraint('facility_code', 'bundle_key', name='uq_fhir_bundle_per_facility')
    )
    with op.batch_alter_table('drafts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('notified_birth_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_drafts_notified_birth_id'), ['notified_birth_id'])
        batch_op.create_foreign_key(batch_op.f('fk_drafts_notified_birth_id_notified_births'), 'notified_births', ['notified_birth_id'], ['id'])



def downgrade():
    with op.batch_alter_table('drafts', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_drafts_notified_birth_id_notified_births'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_drafts_notified_birth_id'), type_='unique')
        batch_op.drop_column('notified_birth_id')

    with op.batch_alter_table('notification_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notification_links_notified_birth_id'))

    op.drop_table('fhir_bundle_receipts')
    op.drop_table('notification_links')
    with op.batch_alter_table('notified_births', schema=None) as batch_op:
        batch_op.drop_index('ix_notified_births_status_birth')
        batch_op.drop_index(batch_op.f('ix_notified_births_region_code'))
        batch_op.drop_index(batch_op.f('ix_notified_births_next_reminder_on'))
        batch_op.drop_index(batch_op.f('ix_notified_births_mother_nik'))
        batch_op.drop_index(batch_op.f('ix_notified_births_facility_code'))

    op.drop_table('notified_births')
