"""record versions (corrections supersede, never overwrite)

Revision ID: 0004
Revises: 0002
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import cartflow.db.base

revision: str = "0004"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "record_version",
        sa.Column("record_type", sa.String(length=48), nullable=False),
        sa.Column("record_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "content",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.Column("supersedes_id", sa.Uuid(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", cartflow.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Uuid(), nullable=True),
        sa.Column("created_by_username", sa.String(length=64), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["app_user.id"],
            name=op.f("fk_record_version_created_by_id_app_user"),
        ),
        sa.ForeignKeyConstraint(
            ["supersedes_id"],
            ["record_version.id"],
            name=op.f("fk_record_version_supersedes_id_record_version"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_record_version")),
        sa.UniqueConstraint(
            "record_type",
            "record_id",
            "version",
            name=op.f("uq_record_version_record_type_record_id_version"),
        ),
        sa.UniqueConstraint("supersedes_id", name=op.f("uq_record_version_supersedes_id")),
    )
    with op.batch_alter_table("record_version", schema=None) as batch_op:
        batch_op.create_index(
            "ix_record_version_record", ["record_type", "record_id"], unique=False
        )

    if op.get_bind().dialect.name == "postgresql":
        # Earlier versions of a record are as permanent as the audit trail (21 CFR 11.10(e)).
        op.execute(
            """
            CREATE FUNCTION record_version_refuse_change() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION 'record_version is append-only: % refused', TG_OP;
            END;
            $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            """
            CREATE TRIGGER record_version_append_only
            BEFORE UPDATE OR DELETE OR TRUNCATE ON record_version
            FOR EACH STATEMENT EXECUTE FUNCTION record_version_refuse_change()
            """
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS record_version_append_only ON record_version")
        op.execute("DROP FUNCTION IF EXISTS record_version_refuse_change()")
    with op.batch_alter_table("record_version", schema=None) as batch_op:
        batch_op.drop_index("ix_record_version_record")

    op.drop_table("record_version")
