"""notifications worded when sent

The sweep no longer writes a notification's subject and body: the mail is worded when it is
sent, in the recipient's language, and the inbox words it when it is shown.

Revision ID: 4b1e0c7d2a91
Revises: 156019477765
Create Date: 2026-11-27 10:05:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '4b1e0c7d2a91'
down_revision = '156019477765'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_column('body')
        batch_op.drop_column('subject')


def downgrade():
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('subject', sa.String(length=255), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('body', sa.Text(), nullable=False, server_default=''))

