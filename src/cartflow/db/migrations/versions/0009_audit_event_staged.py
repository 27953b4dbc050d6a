"""audit events staged for chaining inside the commit

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07

The application inserts a committing transaction's audit events into `audit_event_staged`; on
PostgreSQL a deferred constraint trigger then chains each one (takes the chain's lock, reads the
head, hashes, inserts into `audit_event`, removes the staged row) while the COMMIT runs. The lock
is held from then until the commit ends, inside the database: never across a round trip to a server
process waiting for its turn to run Python (docs/operations.md, "Load").

A volatile PL/pgSQL function takes a new snapshot for each statement, so the head is read after
the lock is held. The hash is `compute_hash`'s: SHA-256 over the previous hash followed by the
event's canonical JSON, which the application computed and staged with it.
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import cartflow.db.base

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "audit_event_staged",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("occurred_at", cartflow.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("actor_username", sa.String(length=64), nullable=False),
        sa.Column("actor_roles", _json(), nullable=False),
        sa.Column("record_type", sa.String(length=48), nullable=False),
        sa.Column("record_id", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=48), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("before", _json(), nullable=True),
        sa.Column("after", _json(), nullable=True),
        sa.Column("content", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_event_staged")),
    )
    if op.get_bind().dialect.name != "postgresql":
        return
    # 211975952 = 0x0CA27F10: the chain's advisory lock, also taken by
    # cartflow.audit.service when a transaction reads its own events before committing.
    op.execute(
        """
        CREATE FUNCTION audit_event_chain_staged() RETURNS trigger
        LANGUAGE plpgsql VOLATILE AS $$
        DECLARE
            prev varchar(64);
        BEGIN
            PERFORM pg_advisory_xact_lock(211975952);
            SELECT a.hash INTO prev FROM audit_event a ORDER BY a.id DESC LIMIT 1;
            prev := coalesce(prev, repeat('0', 64));
            INSERT INTO audit_event (
                occurred_at, actor_id, actor_username, actor_roles, record_type, record_id,
                action, reason, before, after, prev_hash, hash
            ) VALUES (
                NEW.occurred_at, NEW.actor_id, NEW.actor_username, NEW.actor_roles,
                NEW.record_type, NEW.record_id, NEW.action, NEW.reason, NEW.before, NEW.after,
                prev, encode(sha256(convert_to(prev || NEW.content, 'UTF8')), 'hex')
            );
            DELETE FROM audit_event_staged WHERE id = NEW.id;
            RETURN NULL;
        END;
        $$
        """
    )
    op.execute(
        """
        CREATE CONSTRAINT TRIGGER audit_event_staged_chain
        AFTER INSERT ON audit_event_staged
        DEFERRABLE INITIALLY DEFERRED
        FOR EACH ROW EXECUTE FUNCTION audit_event_chain_staged()
        """
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_event_staged_chain ON audit_event_staged")
        op.execute("DROP FUNCTION IF EXISTS audit_event_chain_staged()")
    op.drop_table("audit_event_staged")
