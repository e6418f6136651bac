"""Firm list totals: an epoch that moves with every write a list's total depends on; (name, id) index

A list's total (count of 40-100k matching firms) was most of a list page's database work, recounted on every
page and every visit although it changes only when firms, their recognitions, tags or the industry tree do.
`firm_list_epoch` holds one value that database triggers change on every such write, whoever makes it (the
app, an import, plain SQL); `repository.list_firms` keeps each total under the epoch it read with it and uses
it while the epoch has not moved.

PostgreSQL: the epoch is bumped once per transaction *at commit* (a deferred constraint trigger, so a long
import does not hold the epoch row's lock and block every other writer), and until then a statement trigger
marks the writing transaction (`ladder.lists_dirty`, transaction-local) so that its own lists count afresh.
A transaction that wrote firms and then alters the firms table (or a key to it) must first fire those
deferred events (`SET CONSTRAINTS ALL IMMEDIATE`, as `rules.batch` does before dropping its keys): PostgreSQL
refuses the ALTER while they are pending.

SQLite has one writer at a time: a plain trigger sets a new random epoch at once (random, not +1, so that a
rolled-back value is never seen again with other data).

The name index gains the id, so that a page far into the list (default order: name) walks the index alone.

Revision ID: a7c3e9d2f481
Revises: f3d8a1b6c047
Create Date: 2026-12-03 00:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db  # noqa: F401

revision: str = "a7c3e9d2f481"
down_revision: str | None = "f3d8a1b6c047"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The tables whose writes can change a list's total, and (for firms) the columns the filters and scope read.
WATCHED = {
    "firms": "UPDATE OF search_text, park_code, area_code, industry_code, status, officer_id",
    "recognitions": "UPDATE",
    "firm_tags": "UPDATE",
    "industries": "UPDATE",
}


def upgrade() -> None:
    op.create_index("ix_firms_name_id", "firms", ["name", "id"])
    op.drop_index("ix_firms_name", table_name="firms")
    op.create_table(
        "firm_list_epoch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("epoch", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_firm_list_epoch")),
    )
    op.execute("INSERT INTO firm_list_epoch (id, epoch) VALUES (1, 0)")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION ladder_lists_touched() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                PERFORM set_config('ladder.lists_dirty', 'on', true);
                RETURN NULL;
            END
            $$
            """
        )
        op.execute(
            """
            CREATE FUNCTION ladder_lists_bump() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF current_setting('ladder.lists_bumped', true) IS DISTINCT FROM 'on' THEN
                    UPDATE firm_list_epoch SET epoch = epoch + 1 WHERE id = 1;
                    PERFORM set_config('ladder.lists_bumped', 'on', true);
                END IF;
                RETURN NULL;
            END
            $$
            """
        )
        for table, update in WATCHED.items():
            events = f"INSERT OR {update} OR DELETE"
            op.execute(
                f"CREATE TRIGGER tr_{table}_lists_touched AFTER {events} OR TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION ladder_lists_touched()"
            )
            op.execute(
                f"CREATE CONSTRAINT TRIGGER tr_{table}_lists_bump AFTER {events} ON {table} "
                "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ladder_lists_bump()"
            )
            # TRUNCATE has no row triggers: it bumps at once (it locks the whole table anyway).
            op.execute(
                f"CREATE TRIGGER tr_{table}_lists_truncate AFTER TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION ladder_lists_bump()"
            )
    else:
        for table, update in WATCHED.items():
            for name, event in (("insert", "INSERT"), ("update", update), ("delete", "DELETE")):
                op.execute(
                    f"CREATE TRIGGER tr_{table}_lists_{name} AFTER {event} ON {table} "
                    "BEGIN UPDATE firm_list_epoch SET epoch = random() WHERE id = 1; END"
                )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in WATCHED:
            for name in ("touched", "bump", "truncate"):
                op.execute(f"DROP TRIGGER IF EXISTS tr_{table}_lists_{name} ON {table}")
        op.execute("DROP FUNCTION IF EXISTS ladder_lists_bump()")
        op.execute("DROP FUNCTION IF EXISTS ladder_lists_touched()")
    else:
        for table in WATCHED:
            for name in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS tr_{table}_lists_{name}")
    op.drop_table("firm_list_epoch")
    op.create_index("ix_firms_name", "firms", ["name"])
    op.drop_index("ix_firms_name_id", table_name="firms")
