"""Manufacturing batches and their steps, from receipt of the apheresis material to freezing.

One batch per manufacturing run of an episode; a re-manufacture is a new batch (`run_number` + 1)
linked to the batch it replaces. A device makes one batch at a time: while a batch is in process
its `occupied_device_id` holds the device, and a unique constraint on that column makes a second
batch on the same device impossible even when two planners start one at the same moment. Steps are
never edited: a correction is a new revision of the step that supersedes the old one.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cartflow.db.base import Base, Timestamps, UUIDPrimaryKey, str_enum, utcnow


class BatchState(enum.StrEnum):
    IN_PROCESS = "in_process"
    IN_QC = "in_qc"
    AWAITING_SECOND_SIGNATURE = "awaiting_second_signature"
    RELEASED = "released"
    REJECTED = "rejected"
    TERMINATED = "terminated"


class StepKind(enum.StrEnum):
    """The manufacturing steps, in the order they happen (FACT IEC processing; PMID 29287970)."""

    APHERESIS_RECEIPT = "apheresis_receipt"
    ACTIVATION = "activation"
    TRANSDUCTION = "transduction"
    EXPANSION = "expansion"
    HARVEST = "harvest"
    FORMULATION = "formulation"
    CRYOPRESERVATION = "cryopreservation"


class Batch(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "manufacturing_batch"
    __table_args__ = (
        UniqueConstraint("episode_id", "run_number"),
        CheckConstraint("run_number >= 1", name="run_number"),
        CheckConstraint("state = 'in_process' OR occupied_device_id IS NULL", name="device_freed"),
        CheckConstraint("patient_weight_kg IS NULL OR patient_weight_kg > 0", name="weight"),
    )

    episode_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("episode.id"), index=True)
    site_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("manufacturing_site.id"), index=True)
    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("product.id"))
    # ISBT 128 Donation Identification Number of the product (ST-001 §2.4.1), the lot number.
    din: Mapped[str] = mapped_column(String(13), unique=True)
    run_number: Mapped[int]
    remanufacture_of_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("manufacturing_batch.id"), unique=True
    )
    device_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("device.id"))
    occupied_device_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("device.id"), unique=True
    )
    state: Mapped[BatchState] = mapped_column(
        str_enum(BatchState), default=BatchState.IN_PROCESS, index=True
    )
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    started_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"))
    cryopreserved_at: Mapped[dt.datetime | None]
    submitted_for_qc_at: Mapped[dt.datetime | None]
    # The specification version the batch is tested against, fixed when testing begins.
    specification_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("release_specification.id")
    )
    # The weight a per-kg dose is judged by, recorded with the specification.
    patient_weight_kg: Mapped[float | None]
    closed_at: Mapped[dt.datetime | None]
    termination_reason: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy's declared shape


class BatchStep(UUIDPrimaryKey, Base):
    """One manufacturing step as performed; a correction is a new revision superseding it."""

    __tablename__ = "manufacturing_batch_step"
    __table_args__ = (
        UniqueConstraint("batch_id", "step", "revision"),
        CheckConstraint("revision >= 1", name="revision"),
        CheckConstraint("completed_at >= started_at", name="times"),
    )

    batch_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("manufacturing_batch.id"), index=True)
    step: Mapped[StepKind] = mapped_column(str_enum(StepKind))
    revision: Mapped[int] = mapped_column(default=1)
    supersedes_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("manufacturing_batch_step.id"), unique=True
    )
    started_at: Mapped[dt.datetime]
    completed_at: Mapped[dt.datetime]
    recorded_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    notes: Mapped[str] = mapped_column(Text, default="")
    parameters: Mapped[dict[str, Any]] = mapped_column(default=dict)
    correction_reason: Mapped[str] = mapped_column(Text, default="")

    operators: Mapped[list[BatchStepOperator]] = relationship(
        lazy="raise", order_by="BatchStepOperator.username"
    )


class BatchStepOperator(Base):
    """A person who performed a step (the recorder is one of them unless others are named)."""

    __tablename__ = "manufacturing_batch_step_operator"

    step_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("manufacturing_batch_step.id"), primary_key=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"), primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    printed_name: Mapped[str] = mapped_column(String(200))
