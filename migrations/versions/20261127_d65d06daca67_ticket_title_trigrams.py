"""ticket title trigrams

The queue's search finds a word anywhere in a title; on PostgreSQL a trigram index (pg_trgm)
answers it without reading every open ticket (at 1,000,000 tickets a rare word took 0.5 s).

The extension goes into the schema `public` unless the database has it already, so that a
schema dropped with CASCADE (a test run's, say) never takes it from the others. pg_trgm is a
trusted extension: the database's owner may create it.

Revision ID: d65d06daca67
Revises: 4b1e0c7d2a91
Create Date: 2026-11-27 14:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd65d06daca67'
down_revision = '4b1e0c7d2a91'
branch_labels = None
depends_on = None

# Serialises migrations of several schemas of one database: CREATE EXTENSION IF NOT EXISTS
# races with itself.
EXTENSION_LOCK = 0x7467726D  # "tgrm"


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name != 'postgresql':
        return
    bind.exec_driver_sql(f'SELECT pg_advisory_xact_lock({EXTENSION_LOCK})')
    schema = bind.exec_driver_sql(
        "SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pg_trgm'"
    ).scalar()
    if schema is None:
        bind.exec_driver_sql('CREATE EXTENSION pg_trgm WITH SCHEMA public')
        schema = 'public'
    op.create_index('ix_tickets_title_trgm', 'tickets', ['title'], unique=False,
                    postgresql_using='gin',
                    postgresql_ops={'title': f'{schema}.gin_trgm_ops'})


def downgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.drop_index('ix_tickets_title_trgm', table_name='tickets', postgresql_using='gin')
