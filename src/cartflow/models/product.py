"""Products: the CAR-T medicines the network makes or buys, their indications and versioned release
specifications (a specification is never edited: a new version supersedes the old)."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cartflow.db.base import Base, Timestamps, UUIDPrimaryKey, str_enum, utcnow
from cartflow.models.patient import Diagnosis


class ProductKind(enum.StrEnum):
    ACADEMIC = "academic"
    COMMERCIAL = "commercial"


class Product(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "product"
    __table_args__ = (
        CheckConstraint("manufacturing_days > 0", name="manufacturing_days"),
        CheckConstraint("qc_days >= 0", name="qc_days"),
        CheckConstraint("shelf_life_days > 0", name="shelf_life_days"),
    )

    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    inn: Mapped[str] = mapped_column(String(200))
    kind: Mapped[ProductKind] = mapped_column(str_enum(ProductKind))
    holder: Mapped[str] = mapped_column(String(200))
    target_antigen: Mapped[str] = mapped_column(String(32))
    # ISBT 128 product description code (8 characters; cellular therapy codes begin with "S").
    isbt_product_code: Mapped[str] = mapped_column(String(8))
    manufacturing_site_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("manufacturing_site.id"))
    manufacturing_days: Mapped[int]
    qc_days: Mapped[int]
    shelf_life_days: Mapped[int]
    storage_temperature_max_c: Mapped[int]
    post_thaw_window_minutes: Mapped[int]
    fresh_apheresis_max_hours: Mapped[int | None]
    # Gene-modified products are followed for 15 years (FDA long-term follow-up guidance, 2020).
    gene_modified: Mapped[bool] = mapped_column(default=True)
    active: Mapped[bool] = mapped_column(default=True)

    indications: Mapped[list[ProductIndication]] = relationship(
        back_populates="product", lazy="raise", cascade="all, delete-orphan"
    )
    specifications: Mapped[list[ReleaseSpecification]] = relationship(
        back_populates="product", lazy="raise", order_by="ReleaseSpecification.version"
    )


class ProductIndication(UUIDPrimaryKey, Base):
    """One approved or protocol indication with its age limits (inclusive, in whole years)."""

    __tablename__ = "product_indication"
    __table_args__ = (
        UniqueConstraint("product_id", "diagnosis"),
        CheckConstraint("min_age_years >= 0", name="min_age"),
        CheckConstraint(
            "max_age_years IS NULL OR max_age_years >= min_age_years", name="age_range"
        ),
    )

    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("product.id", ondelete="CASCADE"))
    diagnosis: Mapped[Diagnosis] = mapped_column(str_enum(Diagnosis))
    min_age_years: Mapped[int]
    max_age_years: Mapped[int | None]
    min_prior_lines: Mapped[int] = mapped_column(default=0)
    note: Mapped[str] = mapped_column(String(500), default="")

    product: Mapped[Product] = relationship(back_populates="indications", lazy="raise")


class ReleaseSpecification(UUIDPrimaryKey, Base):
    """A versioned set of release acceptance criteria; `criteria` maps test name to its limits."""

    __tablename__ = "release_specification"
    __table_args__ = (UniqueConstraint("product_id", "version"),)

    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("product.id"))
    version: Mapped[int]
    effective_from: Mapped[dt.datetime] = mapped_column(default=utcnow)
    criteria: Mapped[dict[str, Any]]
    source: Mapped[str] = mapped_column(String(500), default="")
    superseded_at: Mapped[dt.datetime | None]

    product: Mapped[Product] = relationship(back_populates="specifications", lazy="raise")
