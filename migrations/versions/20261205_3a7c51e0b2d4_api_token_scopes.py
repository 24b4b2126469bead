"""api token names, scopes, expiry and last use

Revision ID: 3a7c51e0b2d4
Revises: 07fa3061ba5c
Create Date: 2026-12-05 01:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3a7c51e0b2d4'
down_revision = '07fa3061ba5c'
branch_labels = None
depends_on = None


def upgrade():
    # Tokens made before scopes existed were made on the command line and could do everything
    # their owner may: they keep working as they did.
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name', sa.String(length=100), nullable=False,
                                      server_default='command line'))
        batch_op.add_column(sa.Column('scopes', sa.String(length=64), nullable=False,
                                      server_default='finance read write'))
        batch_op.add_column(sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True))
    # The defaults were for the existing rows only: a new token is always named and scoped.
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.alter_column('name', server_default=None)
        batch_op.alter_column('scopes', server_default=None)


def downgrade():
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_column('last_used_at')
        batch_op.drop_column('expires_at')
        batch_op.drop_column('scopes')
        batch_op.drop_column('name')
