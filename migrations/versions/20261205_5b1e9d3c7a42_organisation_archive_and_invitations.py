"""archived organisations, invitation mails

Revision ID: 5b1e9d3c7a42
Revises: 3a7c51e0b2d4
Create Date: 2026-12-05 02:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5b1e9d3c7a42'
down_revision = '3a7c51e0b2d4'
branch_labels = None
depends_on = None

KINDS = ('password_reset', 'password_changed', 'account_locked')


def _kind(*kinds):
    return sa.Enum(*kinds, name='accountmailkind', native_enum=False, create_constraint=True,
                   length=32)


def upgrade():
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('archived_at', sa.DateTime(timezone=True), nullable=True))
    # The kind's check constraint lists the kinds: it is rebuilt with the new one.
    with op.batch_alter_table('account_mails', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_account_mails_accountmailkind'), type_='check')
    with op.batch_alter_table('account_mails', schema=None) as batch_op:
        batch_op.alter_column('kind', existing_type=sa.String(length=32),
                              type_=_kind(*KINDS, 'invitation'), existing_nullable=False)


def downgrade():
    op.execute("DELETE FROM account_mails WHERE kind = 'invitation'")
    with op.batch_alter_table('account_mails', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_account_mails_accountmailkind'), type_='check')
    with op.batch_alter_table('account_mails', schema=None) as batch_op:
        batch_op.alter_column('kind', existing_type=sa.String(length=32), type_=_kind(*KINDS),
                              existing_nullable=False)
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.drop_column('archived_at')
