"""custody: containers, hand-off scans, deviations, shipments, temperature files, quarantine

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import cartflow.db.base

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "custody_container",
        sa.Column("episode_id", sa.Uuid(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "collection_bag",
                "product_bag",
                "cassette",
                "shipper",
                name="containerkind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("din", sa.String(length=13), nullable=False),
        sa.Column("din_flags", sa.String(length=2), nullable=False),
        sa.Column("product_code", sa.String(length=8), nullable=True),
        sa.Column("chain_of_identity", sa.String(length=15), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "in_use",
                "consumed",
                "quarantined",
                "discarded",
                name="containerstatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("status_reason", sa.Text(), nullable=False),
        sa.Column("expires_at", cartflow.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("label_timezone", sa.String(length=64), nullable=False),
        sa.Column("registered_by_id", sa.Uuid(), nullable=False),
        sa.Column(
            "custodian_kind",
            sa.Enum(
                "center",
                "courier",
                "site",
                "patient",
                name="custodiankind",
                native_enum=False,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("custodian_center_id", sa.Uuid(), nullable=True),
        sa.Column("custodian_site_id", sa.Uuid(), nullable=True),
        sa.Column("custodian_user_id", sa.Uuid(), nullable=True),
        sa.Column("location", sa.String(length=200), nullable=False),
        sa.Column(
            "last_step",
            sa.Enum(
                "collection",
                "apheresis_pickup",
                "site_receipt",
                "cryopreservation",
                "release",
                "product_pickup",
                "center_receipt",
                "storage",
                "bedside",
                name="handoffstep",
                native_enum=False,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("last_event_at", cartflow.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", cartflow.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", cartflow.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(custodian_kind = 'center') = (custodian_center_id IS NOT NULL)",
            name=op.f("ck_custody_container_custodian_center"),
        ),
        sa.CheckConstraint(
            "(custodian_kind = 'courier') = (custodian_user_id IS NOT NULL)",
            name=op.f("ck_custody_container_custodian_courier"),
        ),
        sa.CheckConstraint(
            "(custodian_kind = 'site') = (custodian_site_id IS NOT NULL)",
            name=op.f("ck_custody_container_custodian_site"),
        ),
        sa.ForeignKeyConstraint(
            ["custodian_center_id"],
            ["treatment_center.id"],
            name=op.f("fk_custody_container_custodian_center_id_treatment_center"),
        ),
        sa.ForeignKeyConstraint(
            ["custodian_site_id"],
            ["manufacturing_site.id"],
            name=op.f("fk_custody_container_custodian_site_id_manufacturing_site"),
        ),
        sa.ForeignKeyConstraint(
            ["custodian_user_id"],
            ["app_user.id"],
            name=op.f("fk_custody_container_custodian_user_id_app_user"),
        ),
        sa.ForeignKeyConstraint(
            ["episode_id"], ["episode.id"], name=op.f("fk_custody_container_episode_id_episode")
        ),
        sa.ForeignKeyConstraint(
            ["registered_by_id"],
            ["app_user.id"],
            name=op.f("fk_custody_container_registered_by_id_app_user"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_custody_container")),
        sa.UniqueConstraint("din", name=op.f("uq_custody_container_din")),
    )
    op.create_index(
        "ix_custody_container_center_status",
        "custody_container",
        ["custodian_center_id", "status"],
        unique=False,
    )
    op.create_index(
        op.f("ix_custody_container_episode_id"), "custody_container", ["episode_id"], unique=False
    )
    op.create_index(
        "ix_custody_container_site_status",
        "custody_container",
        ["custodian_site_id", "status"],
        unique=False,
    )
    op.create_table(
        "logistics_shipment",
        sa.Column("episode_id", sa.Uuid(), nullable=False),
        sa.Column(
            "material",
            sa.Enum(
                "fresh_apheresis",
                "cryopreserved_apheresis",
                "cryopreserved_product",
                name="shipmentmaterial",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("center_id", sa.Uuid(), nullable=False),
        sa.Column("site_id", sa.Uuid(), nullable=False),
        sa.Column("shipper_serial", sa.String(length=64), nullable=False),
        sa.Column("courier", sa.String(length=200), nullable=False),
        sa.Column("tracking_number", sa.String(length=64), nullable=False),
        sa.Column(
            "planned_departure_at", cartflow.db.base.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "planned_arrival_at", cartflow.db.base.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("departed_at", cartflow.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("arrived_at", cartflow.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("min_celsius", sa.Double(), nullable=True),
        sa.Column("max_celsius", sa.Double(), nullable=False),
        sa.Column("max_transit_hours", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "planned",
                "in_transit",
                "delivered",
                "cancelled",
                name="shipmentstatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("created_by_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", cartflow.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", cartflow.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("max_transit_hours > 0", name=op.f("ck_logistics_shipment_max_transit")),
        sa.CheckConstraint(
            "min_celsius IS NULL OR min_celsius < max_celsius",
            name=op.f("ck_logistics_shipment_temperature_range"),
        ),
        sa.CheckConstraint(
            "planned_arrival_at > planned_departure_at",
            name=op.f("ck_logistics_shipment_planned_window"),
        ),
        sa.ForeignKeyConstraint(
            ["center_id"],
            ["treatment_center.id"],
            name=op.f("fk_logistics_shipment_center_id_treatment_center"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["app_user.id"],
            name=op.f("fk_logistics_shipment_created_by_id_app_user"),
        ),
        sa.ForeignKeyConstraint(
            ["episode_id"], ["episode.id"], name=op.f("fk_logistics_shipment_episode_id_episode")
        ),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["manufacturing_site.id"],
            name=op.f("fk_logistics_shipment_site_id_manufacturing_site"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_logistics_shipment")),
    )
    op.create_index(
        "ix_logistics_shipment_center_status",
        "logistics_shipment",
        ["center_id", "status"],
        unique=False,
    )
    op.create_index(
        op.f("ix_logistics_shipment_episode_id"), "logistics_shipment", ["episode_id"], unique=False
    )
    op.create_index(
        "ix_logistics_shipment_site_status",
        "logistics_shipment",
        ["site_id", "status"],
        unique=False,
    )
    op.create_table(
        "custody_deviation",
        sa.Column("episode_id", sa.Uuid(), nullable=False),
        sa.Column(
            "step",
            sa.Enum(
                "collection",
                "apheresis_pickup",
                "site_receipt",
                "cryopreservation",
                "release",
                "product_pickup",
                "center_receipt",
                "storage",
                "bedside",
                name="handoffstep",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("rule", sa.String(length=48), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("raw_scan", sa.String(length=400), nullable=False),
        sa.Column("scanned_container_id", sa.Uuid(), nullable=True),
        sa.Column("location", sa.String(length=200), nullable=False),
        sa.Column("occurred_at", cartflow.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reported_by_id", sa.Uuid(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("open", "closed", name="deviationstatus", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("closed_at", cartflow.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_by_id", sa.Uuid(), nullable=True),
        sa.Column("closure_note", sa.Text(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "(status = 'closed') = (closed_at IS NOT NULL)",
            name=op.f("ck_custody_deviation_closed"),
        ),
        sa.ForeignKeyConstraint(
            ["closed_by_id"],
            ["app_user.id"],
            name=op.f("fk_custody_deviation_closed_by_id_app_user"),
        ),
        sa.ForeignKeyConstraint(
            ["episode_id"], ["episode.id"], name=op.f("fk_custody_deviation_episode_id_episode")
        ),
        sa.ForeignKeyConstraint(
            ["reported_by_id"],
            ["app_user.id"],
            name=op.f("fk_custody_deviation_reported_by_id_app_user"),
        ),
        sa.ForeignKeyConstraint(
            ["scanned_container_id"],
            ["custody_container.id"],
            name=op.f("fk_custody_deviation_scanned_container_id_custody_container"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_custody_deviation")),
    )
    op.create_index(
        "ix_custody_deviation_episode_status",
        "custody_deviation",
        ["episode_id", "status"],
        unique=False,
    )
    op.create_table(
        "custody_event",
        sa.Column("episode_id", sa.Uuid(), nullable=False),
        sa.Column("container_id", sa.Uuid(), nullable=False),
        sa.Column("handoff_id", sa.Uuid(), nullable=False),
        sa.Column(
            "step",
            sa.Enum(
                "collection",
                "apheresis_pickup",
                "site_receipt",
                "cryopreservation",
                "release",
                "product_pickup",
                "center_receipt",
                "storage",
                "bedside",
                name="handoffstep",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "from_kind",
            sa.Enum(
                "center",
                "courier",
                "site",
                "patient",
                name="custodiankind",
                native_enum=False,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("from_center_id", sa.Uuid(), nullable=True),
        sa.Column("from_site_id", sa.Uuid(), nullable=True),
        sa.Column("from_user_id", sa.Uuid(), nullable=True),
        sa.Column(
            "to_kind",
            sa.Enum(
                "center",
                "courier",
                "site",
                "patient",
                name="custodiankind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("to_center_id", sa.Uuid(), nullable=True),
        sa.Column("to_site_id", sa.Uuid(), nullable=True),
        sa.Column("to_user_id", sa.Uuid(), nullable=True),
        sa.Column("occurred_at", cartflow.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("scanned_by_id", sa.Uuid(), nullable=False),
        sa.Column("witness_id", sa.Uuid(), nullable=True),
        sa.Column("witness_signature_id", sa.Uuid(), nullable=True),
        sa.Column("location", sa.String(length=200), nullable=False),
        sa.Column("temperature_c", sa.Double(), nullable=True),
        sa.Column("raw_scan", sa.String(length=400), nullable=False),
        sa.Column("entry", sa.String(length=16), nullable=False),
        sa.Column("shipment_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["container_id"],
            ["custody_container.id"],
            name=op.f("fk_custody_event_container_id_custody_container"),
        ),
        sa.ForeignKeyConstraint(
            ["episode_id"], ["episode.id"], name=op.f("fk_custody_event_episode_id_episode")
        ),
        sa.ForeignKeyConstraint(
            ["from_center_id"],
            ["treatment_center.id"],
            name=op.f("fk_custody_event_from_center_id_treatment_center"),
        ),
        sa.ForeignKeyConstraint(
            ["from_site_id"],
            ["manufacturing_site.id"],
            name=op.f("fk_custody_event_from_site_id_manufacturing_site"),
        ),
        sa.ForeignKeyConstraint(
            ["from_user_id"], ["app_user.id"], name=op.f("fk_custody_event_from_user_id_app_user")
        ),
        sa.ForeignKeyConstraint(
            ["scanned_by_id"], ["app_user.id"], name=op.f("fk_custody_event_scanned_by_id_app_user")
        ),
        sa.ForeignKeyConstraint(
            ["shipment_id"],
            ["logistics_shipment.id"],
            name=op.f("fk_custody_event_shipment_id_logistics_shipment"),
        ),
        sa.ForeignKeyConstraint(
            ["to_center_id"],
            ["treatment_center.id"],
            name=op.f("fk_custody_event_to_center_id_treatment_center"),
        ),
        sa.ForeignKeyConstraint(
            ["to_site_id"],
            ["manufacturing_site.id"],
            name=op.f("fk_custody_event_to_site_id_manufacturing_site"),
        ),
        sa.ForeignKeyConstraint(
            ["to_user_id"], ["app_user.id"], name=op.f("fk_custody_event_to_user_id_app_user")
        ),
        sa.ForeignKeyConstraint(
            ["witness_id"], ["app_user.id"], name=op.f("fk_custody_event_witness_id_app_user")
        ),
        sa.ForeignKeyConstraint(
            ["witness_signature_id"],
            ["electronic_signature.id"],
            name=op.f("fk_custody_event_witness_signature_id_electronic_signature"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_custody_event")),
        sa.UniqueConstraint(
            "container_id", "step", name=op.f("uq_custody_event_container_id_step")
        ),
    )
    op.create_index(
        "ix_custody_event_episode_time",
        "custody_event",
        ["episode_id", "occurred_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_custody_event_handoff_id"), "custody_event", ["handoff_id"], unique=False
    )
    op.create_index(
        op.f("ix_custody_event_shipment_id"), "custody_event", ["shipment_id"], unique=False
    )
    op.create_table(
        "logistics_quarantine",
        sa.Column("episode_id", sa.Uuid(), nullable=False),
        sa.Column("shipment_id", sa.Uuid(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column(
            "findings",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("opened_at", cartflow.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "released",
                "rejected",
                name="quarantinestatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("decided_at", cartflow.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decided_by_id", sa.Uuid(), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=False),
        sa.Column("signature_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "(status = 'open') = (decided_at IS NULL)", name=op.f("ck_logistics_quarantine_decided")
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["app_user.id"],
            name=op.f("fk_logistics_quarantine_decided_by_id_app_user"),
        ),
        sa.ForeignKeyConstraint(
            ["episode_id"], ["episode.id"], name=op.f("fk_logistics_quarantine_episode_id_episode")
        ),
        sa.ForeignKeyConstraint(
            ["shipment_id"],
            ["logistics_shipment.id"],
            name=op.f("fk_logistics_quarantine_shipment_id_logistics_shipment"),
        ),
        sa.ForeignKeyConstraint(
            ["signature_id"],
            ["electronic_signature.id"],
            name=op.f("fk_logistics_quarantine_signature_id_electronic_signature"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_logistics_quarantine")),
    )
    op.create_index(
        op.f("ix_logistics_quarantine_episode_id"),
        "logistics_quarantine",
        ["episode_id"],
        unique=False,
    )
    op.create_index(
        "uq_logistics_quarantine_open_shipment",
        "logistics_quarantine",
        ["shipment_id"],
        unique=True,
        sqlite_where=sa.text("status = 'open'"),
        postgresql_where=sa.text("status = 'open'"),
    )
    op.create_table(
        "logistics_temperature_import",
        sa.Column("shipment_id", sa.Uuid(), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("reading_count", sa.Integer(), nullable=False),
        sa.Column("first_at", cartflow.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_at", cartflow.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("min_celsius", sa.Double(), nullable=False),
        sa.Column("max_celsius", sa.Double(), nullable=False),
        sa.Column("excursion", sa.Boolean(), nullable=False),
        sa.Column(
            "findings",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("imported_by_id", sa.Uuid(), nullable=False),
        sa.Column("imported_at", cartflow.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["imported_by_id"],
            ["app_user.id"],
            name=op.f("fk_logistics_temperature_import_imported_by_id_app_user"),
        ),
        sa.ForeignKeyConstraint(
            ["shipment_id"],
            ["logistics_shipment.id"],
            name=op.f("fk_logistics_temperature_import_shipment_id_logistics_shipment"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_logistics_temperature_import")),
        sa.UniqueConstraint(
            "shipment_id", "sha256", name=op.f("uq_logistics_temperature_import_shipment_id_sha256")
        ),
    )
    op.create_table(
        "logistics_quarantine_container",
        sa.Column("quarantine_id", sa.Uuid(), nullable=False),
        sa.Column("container_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["container_id"],
            ["custody_container.id"],
            name=op.f("fk_logistics_quarantine_container_container_id_custody_container"),
        ),
        sa.ForeignKeyConstraint(
            ["quarantine_id"],
            ["logistics_quarantine.id"],
            name=op.f("fk_logistics_quarantine_container_quarantine_id_logistics_quarantine"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_logistics_quarantine_container")),
        sa.UniqueConstraint(
            "quarantine_id",
            "container_id",
            name=op.f("uq_logistics_quarantine_container_quarantine_id_container_id"),
        ),
    )
    op.create_index(
        op.f("ix_logistics_quarantine_container_container_id"),
        "logistics_quarantine_container",
        ["container_id"],
        unique=False,
    )
    op.create_table(
        "logistics_temperature_reading",
        sa.Column("import_id", sa.Uuid(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("recorded_at", cartflow.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("celsius", sa.Double(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["logistics_temperature_import.id"],
            name=op.f("fk_logistics_temperature_reading_import_id_logistics_temperature_import"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_logistics_temperature_reading")),
        sa.UniqueConstraint(
            "import_id", "line", name=op.f("uq_logistics_temperature_reading_import_id_line")
        ),
    )
    op.create_index(
        op.f("ix_logistics_temperature_reading_import_id"),
        "logistics_temperature_reading",
        ["import_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_logistics_temperature_reading_import_id"),
        table_name="logistics_temperature_reading",
    )
    op.drop_table("logistics_temperature_reading")
    op.drop_index(
        op.f("ix_logistics_quarantine_container_container_id"),
        table_name="logistics_quarantine_container",
    )
    op.drop_table("logistics_quarantine_container")
    op.drop_table("logistics_temperature_import")
    op.drop_index(
        "uq_logistics_quarantine_open_shipment",
        table_name="logistics_quarantine",
        sqlite_where=sa.text("status = 'open'"),
        postgresql_where=sa.text("status = 'open'"),
    )
    op.drop_index(op.f("ix_logistics_quarantine_episode_id"), table_name="logistics_quarantine")
    op.drop_table("logistics_quarantine")
    op.drop_index(op.f("ix_custody_event_shipment_id"), table_name="custody_event")
    op.drop_index(op.f("ix_custody_event_handoff_id"), table_name="custody_event")
    op.drop_index("ix_custody_event_episode_time", table_name="custody_event")
    op.drop_table("custody_event")
    op.drop_index("ix_custody_deviation_episode_status", table_name="custody_deviation")
    op.drop_table("custody_deviation")
    op.drop_index("ix_logistics_shipment_site_status", table_name="logistics_shipment")
    op.drop_index(op.f("ix_logistics_shipment_episode_id"), table_name="logistics_shipment")
    op.drop_index("ix_logistics_shipment_center_status", table_name="logistics_shipment")
    op.drop_table("logistics_shipment")
    op.drop_index("ix_custody_container_site_status", table_name="custody_container")
    op.drop_index(op.f("ix_custody_container_episode_id"), table_name="custody_container")
    op.drop_index("ix_custody_container_center_status", table_name="custody_container")
    op.drop_table("custody_container")
