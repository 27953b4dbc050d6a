"""Release testing and disposition of a batch: QC results, exceptional release requests and the
qualified person's signed decision.

A result is never edited except to record its verification; a retest is a new attempt that
supersedes the previous one. The database refuses a result verified by the analyst who entered it,
a disposition whose second signature is the first signer's, and a second effective disposition of
one batch (`effective_for_batch_id` is unique and set only while the decision stands).
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cartflow.db.base import Base, UUIDPrimaryKey, str_enum, utcnow


class QcResult(UUIDPrimaryKey, Base):
    __tablename__ = "manufacturing_qc_result"
    __table_args__ = (
        UniqueConstraint("batch_id", "test", "attempt"),
        CheckConstraint("attempt >= 1", name="attempt"),
        CheckConstraint(
            "verified_by_id IS NULL OR verified_by_id <> entered_by_id", name="four_eyes"
        ),
        CheckConstraint("(value_number IS NULL) <> (value_text IS NULL)", name="one_value"),
        CheckConstraint("(verified_by_id IS NULL) = (verified_at IS NULL)", name="verified"),
    )

    batch_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("manufacturing_batch.id"), index=True)
    test: Mapped[str] = mapped_column(String(64))
    attempt: Mapped[int] = mapped_column(default=1)
    supersedes_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("manufacturing_qc_result.id"), unique=True
    )
    retest_reason: Mapped[str] = mapped_column(Text, default="")
    value_number: Mapped[float | None]
    value_text: Mapped[str | None] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(32), default="")
    method: Mapped[str] = mapped_column(String(200), default="")
    comment: Mapped[str] = mapped_column(Text, default="")
    specification_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("release_specification.id"))
    within_spec: Mapped[bool]
    # The limit the value fails, as printed on the certificate, e.g. "viability_percent ≥ 80 %".
    failed_limit: Mapped[str | None] = mapped_column(String(200))
    # What was compared with the limit when it differs from the value (a per-kg dose).
    compared_value: Mapped[float | None]
    entered_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"))
    entered_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    verified_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("app_user.id"))
    verified_at: Mapped[dt.datetime | None]


class ExceptionalReleaseRequest(UUIDPrimaryKey, Base):
    """The treating physician's signed, written request to release an out-of-specification
    product for their patient (EU GMP Part IV for ATMPs §11.5, exceptional release of an OOS
    product)."""

    __tablename__ = "manufacturing_exceptional_release_request"

    batch_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("manufacturing_batch.id"), unique=True)
    physician_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"))
    physician_printed_name: Mapped[str] = mapped_column(String(200))
    requested_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    justification: Mapped[str] = mapped_column(Text)
    # Exactly what the physician signed: the justification and the failing results it answers.
    signed_content: Mapped[dict[str, Any]]
    signature_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("electronic_signature.id"))


class DispositionDecision(enum.StrEnum):
    RELEASE = "release"
    REJECT = "reject"


class DispositionStatus(enum.StrEnum):
    AWAITING_SECOND_SIGNATURE = "awaiting_second_signature"
    EFFECTIVE = "effective"
    CANCELLED = "cancelled"


class BatchDisposition(UUIDPrimaryKey, Base):
    """The qualified person's signed decision on a batch; an exceptional release carries a second
    signature from a different person before it takes effect."""

    __tablename__ = "manufacturing_batch_disposition"
    __table_args__ = (
        CheckConstraint(
            "second_signer_id IS NULL OR second_signer_id <> signer_id", name="two_people"
        ),
        CheckConstraint("decision = 'release' OR NOT exceptional", name="exception_releases"),
        CheckConstraint(
            "NOT exceptional OR exceptional_request_id IS NOT NULL", name="exception_requested"
        ),
        CheckConstraint("exceptional OR second_signer_id IS NULL", name="second_only_exception"),
        CheckConstraint(
            "(status = 'effective') = (effective_for_batch_id IS NOT NULL)", name="effective"
        ),
    )

    batch_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("manufacturing_batch.id"), index=True)
    effective_for_batch_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("manufacturing_batch.id"), unique=True
    )
    decision: Mapped[DispositionDecision] = mapped_column(str_enum(DispositionDecision))
    status: Mapped[DispositionStatus] = mapped_column(str_enum(DispositionStatus))
    exceptional: Mapped[bool] = mapped_column(default=False)
    exceptional_request_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("manufacturing_exceptional_release_request.id")
    )
    reason: Mapped[str] = mapped_column(Text, default="")
    specification_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("release_specification.id"))
    # Exactly what the signatures cover: the decision and every result it rests on.
    signed_content: Mapped[dict[str, Any]]
    signer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"))
    signed_at: Mapped[dt.datetime]
    signature_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("electronic_signature.id"))
    second_signer_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("app_user.id"))
    second_signed_at: Mapped[dt.datetime | None]
    second_signature_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("electronic_signature.id")
    )
    cancelled_at: Mapped[dt.datetime | None]
