"""Tiers held on a day, kept by triggers: what the firm list's tier filter reads

The list's tier filter ("持有梯度") asked, for every firm in scope, whether one of its recognitions of that
tier is valid today: at 100k firms a first count of a common tier (科技型中小企业, 44k holders) tested 98k
recognitions against the day and joined 44k firms, 30-50 ms of PostgreSQL per first-seen list. `held_tiers`
holds the answer for one day (`held_tiers_as_of`), one narrow row per firm and tier (9 ms for the same count).

Who keeps it right:
- every write to recognitions, whoever makes it (the app, an import, the rules batch, plain SQL): database
  triggers recompute the held tiers of the firms the statement touched, for the stored day (PostgreSQL once
  per statement from its transition tables; SQLite per row). Nothing happens while the day is unset.
- `app.recognitions.held.refresh` moves the day (the ten-minute job does at its first run of a new day in
  Shanghai, and seeding does) and brings the rows to it in one transaction, changing only what changed.
  PostgreSQL: it holds an advisory lock that the triggers share, so that a recognition written while the day
  moves is counted for the new day.
- readers use the rows only when their day is today (`held.is_current`), and otherwise ask recognitions as
  before: a missed refresh makes the list slower, never wrong.

Writes to `held_tiers` move the list epoch (migration a7c3e9d2f481), like the tables lists already count.

Revision ID: c5e2a8f1d374
Revises: b8d4e1f6a293
Create Date: 2026-12-03 03:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db  # noqa: F401

revision: str = "c5e2a8f1d374"
down_revision: str | None = "b8d4e1f6a293"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The advisory lock the refresh holds and the triggers share (app/recognitions/held.py: HELD_LOCK).
HELD_LOCK = 7402113

# A recognition valid on `day` (repository.held_on), in SQL over alias r.
HELD = (
    "r.issued_on <= {day} AND (r.expires_on IS NULL OR r.expires_on >= {day}) "
    "AND (r.revoked_on IS NULL OR r.revoked_on > {day})"
)


def upgrade() -> None:
    op.create_table(
        "held_tiers_as_of",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_held_tiers_as_of")),
    )
    op.execute("INSERT INTO held_tiers_as_of (id, as_of) VALUES (1, NULL)")
    op.create_table(
        "held_tiers",
        sa.Column("tier", sa.String(length=24), nullable=False),
        sa.Column("firm_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["firm_id"], ["firms.id"], name=op.f("fk_held_tiers_firm_id_firms"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("tier", "firm_id", name=op.f("pk_held_tiers")),
    )
    op.create_index("ix_held_tiers_firm_id_tier", "held_tiers", ["firm_id", "tier"], unique=False)

    if op.get_bind().dialect.name == "postgresql":
        held = HELD.format(day="day")
        op.execute(
            f"""
            CREATE FUNCTION ladder_held_tiers_of(ids integer[]) RETURNS void LANGUAGE plpgsql AS $$
            DECLARE
                day date;
            BEGIN
                PERFORM pg_advisory_xact_lock_shared({HELD_LOCK});
                SELECT as_of INTO day FROM held_tiers_as_of WHERE id = 1;
                IF day IS NULL THEN
                    RETURN;
                END IF;
                DELETE FROM held_tiers h WHERE h.firm_id = ANY(ids) AND NOT EXISTS (
                    SELECT 1 FROM recognitions r
                    WHERE r.firm_id = h.firm_id AND r.tier = h.tier AND {held});
                INSERT INTO held_tiers (tier, firm_id)
                    SELECT DISTINCT r.tier, r.firm_id FROM recognitions r
                    WHERE r.firm_id = ANY(ids) AND {held}
                ON CONFLICT DO NOTHING;
            END
            $$
            """
        )
        for event, rows in (
            ("insert", "SELECT firm_id FROM new_rows"),
            ("update", "SELECT firm_id FROM new_rows UNION SELECT firm_id FROM old_rows"),
            ("delete", "SELECT firm_id FROM old_rows"),
        ):
            op.execute(
                f"""
                CREATE FUNCTION ladder_held_tiers_{event}() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    PERFORM ladder_held_tiers_of(ARRAY({rows}));
                    RETURN NULL;
                END
                $$
                """
            )
        transitions = {
            "insert": "NEW TABLE AS new_rows",
            "update": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
            "delete": "OLD TABLE AS old_rows",
        }
        for event, referencing in transitions.items():
            op.execute(
                f"CREATE TRIGGER tr_recognitions_held_{event} AFTER {event.upper()} ON recognitions "
                f"REFERENCING {referencing} FOR EACH STATEMENT EXECUTE FUNCTION ladder_held_tiers_{event}()"
            )
        op.execute(
            """
            CREATE FUNCTION ladder_held_tiers_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                DELETE FROM held_tiers;
                RETURN NULL;
            END
            $$
            """
        )
        op.execute(
            "CREATE TRIGGER tr_recognitions_held_truncate AFTER TRUNCATE ON recognitions "
            "FOR EACH STATEMENT EXECUTE FUNCTION ladder_held_tiers_truncate()"
        )
        # The list epoch (migration a7c3e9d2f481) moves with held_tiers as with recognitions.
        events = "INSERT OR UPDATE OR DELETE"
        op.execute(
            f"CREATE TRIGGER tr_held_tiers_lists_touched AFTER {events} OR TRUNCATE ON held_tiers "
            "FOR EACH STATEMENT EXECUTE FUNCTION ladder_lists_touched()"
        )
        op.execute(
            f"CREATE CONSTRAINT TRIGGER tr_held_tiers_lists_bump AFTER {events} ON held_tiers "
            "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ladder_lists_bump()"
        )
        op.execute(
            "CREATE TRIGGER tr_held_tiers_lists_truncate AFTER TRUNCATE ON held_tiers "
            "FOR EACH STATEMENT EXECUTE FUNCTION ladder_lists_bump()"
        )
    else:
        held = HELD.format(day="s.as_of")

        def recompute(ref: str) -> str:
            return (
                f"DELETE FROM held_tiers WHERE firm_id = {ref}.firm_id AND NOT EXISTS ("
                "SELECT 1 FROM recognitions r, held_tiers_as_of s WHERE s.id = 1 "
                f"AND r.firm_id = held_tiers.firm_id AND r.tier = held_tiers.tier AND {held}); "
                "INSERT OR IGNORE INTO held_tiers (tier, firm_id) "
                "SELECT DISTINCT r.tier, r.firm_id FROM recognitions r, held_tiers_as_of s "
                f"WHERE s.id = 1 AND s.as_of IS NOT NULL AND r.firm_id = {ref}.firm_id AND {held}; "
            )

        for event, body in (
            ("insert", recompute("NEW")),
            ("update", recompute("OLD") + recompute("NEW")),
            ("delete", recompute("OLD")),
        ):
            op.execute(
                f"CREATE TRIGGER tr_recognitions_held_{event} AFTER {event.upper()} ON recognitions "
                f"BEGIN {body}END"
            )
        for event in ("insert", "update", "delete"):
            op.execute(
                f"CREATE TRIGGER tr_held_tiers_lists_{event} AFTER {event.upper()} ON held_tiers "
                "BEGIN UPDATE firm_list_epoch SET epoch = random() WHERE id = 1; END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for event in ("insert", "update", "delete", "truncate"):
            op.execute(f"DROP TRIGGER IF EXISTS tr_recognitions_held_{event} ON recognitions")
            op.execute(f"DROP FUNCTION IF EXISTS ladder_held_tiers_{event}()")
        op.execute("DROP FUNCTION IF EXISTS ladder_held_tiers_of(integer[])")
        for name in ("touched", "bump", "truncate"):
            op.execute(f"DROP TRIGGER IF EXISTS tr_held_tiers_lists_{name} ON held_tiers")
    else:
        for event in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS tr_recognitions_held_{event}")
            op.execute(f"DROP TRIGGER IF EXISTS tr_held_tiers_lists_{event}")
    op.drop_index("ix_held_tiers_firm_id_tier", table_name="held_tiers")
    op.drop_table("held_tiers")
    op.drop_table("held_tiers_as_of")
