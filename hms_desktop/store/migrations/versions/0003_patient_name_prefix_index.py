"""patient names in "C" order, so a name prefix is one index range read in order

The desk shows the first 50 names that start with what was typed, in name order. With
the default collation PostgreSQL had to fetch and sort every match; an expression index
in "C" order answers the prefix as a range and stops after 50 rows. The user id is in the
index as the tie-breaker, so the order needs no sort whatever the planner estimates (a
sort over every match came back whenever ANALYZE's sample missed a name). SQLite's
ix_users_full_name_lower already compares bytewise.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE INDEX ix_users_full_name_c ON users "
            "((lower(first_name || ' ' || last_name)) COLLATE \"C\", id)"
        )


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_users_full_name_c")
