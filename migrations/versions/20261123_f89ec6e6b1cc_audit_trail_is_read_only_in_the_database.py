"""audit trail is read-only in the database

Revision ID: f89ec6e6b1cc
Revises: 11c8711ea08c
Create Date: 2026-11-23 08:16:50.224231
"""

from collections.abc import Sequence

from alembic import op

revision: str = "f89ec6e6b1cc"
down_revision: str | None = "11c8711ea08c"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


TABLES = ("audit_entries", "personal_data_accesses")


def upgrade() -> None:
    # Nobody edits the trail, not even with SQL: UPDATE and DELETE are refused by the database itself.
    dialect = op.get_bind().dialect.name
    for table in TABLES:
        if dialect == "postgresql":
            op.execute(
                f"""
                CREATE OR REPLACE FUNCTION {table}_read_only() RETURNS trigger AS $$
                BEGIN RAISE EXCEPTION '{table} is read-only'; END; $$ LANGUAGE plpgsql
                """
            )
            op.execute(
                f"CREATE TRIGGER {table}_read_only BEFORE UPDATE OR DELETE ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION {table}_read_only()"
            )
        else:
            for event in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} is read-only'); END"
                )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in TABLES:
        if dialect == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS {table}_read_only ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS {table}_read_only()")
        else:
            for event in ("update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{event}")
