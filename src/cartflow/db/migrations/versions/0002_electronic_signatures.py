"""electronic signatures

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import cartflow.db.base

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "electronic_signature",
        sa.Column("signer_id", sa.Uuid(), nullable=False),
        sa.Column("signer_username", sa.String(length=64), nullable=False),
        sa.Column("signer_printed_name", sa.String(length=200), nullable=False),
        sa.Column("meaning", sa.String(length=100), nullable=False),
        sa.Column("signed_at", cartflow.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("record_type", sa.String(length=48), nullable=False),
        sa.Column("record_id", sa.String(length=64), nullable=False),
        sa.Column("record_sha256", sa.String(length=64), nullable=False),
        sa.Column("signature_sha256", sa.String(length=64), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["signer_id"],
            ["app_user.id"],
            name=op.f("fk_electronic_signature_signer_id_app_user"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_electronic_signature")),
        sa.UniqueConstraint(
            "signature_sha256", name=op.f("uq_electronic_signature_signature_sha256")
        ),
    )
    op.create_index(
        "ix_electronic_signature_record",
        "electronic_signature",
        ["record_type", "record_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_electronic_signature_record", table_name="electronic_signature")
    op.drop_table("electronic_signature")
