"""warned clocks index

The queue's "at risk" filter starts from the clocks past a warning and still counting: a
partial index holds just those.

Revision ID: 7c2f5e9a1d40
Revises: 4b1e0c7d2a91
Create Date: 2026-11-27 11:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7c2f5e9a1d40'
down_revision = '4b1e0c7d2a91'
branch_labels = None
depends_on = None

WARNED = sa.text("escalation_level > 0 AND stopped_at IS NULL")


def upgrade():
    with op.batch_alter_table('sla_clocks', schema=None) as batch_op:
        batch_op.create_index('ix_sla_clocks_warned', ['ticket_id'], unique=False,
                              postgresql_where=WARNED, sqlite_where=WARNED)


def downgrade():
    with op.batch_alter_table('sla_clocks', schema=None) as batch_op:
        batch_op.drop_index('ix_sla_clocks_warned')
