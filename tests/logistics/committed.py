"""Clean-up for tests that commit (threads, the real app, the CLI): delete the network, people
and episodes a test made. Audit events stay: the audit trail refuses deletes."""

from __future__ import annotations

import uuid

from sqlalchemy import Engine, delete, or_, select
from sqlalchemy.orm import Session

from cartflow.models import (
    AuthSession,
    CenterSiteRoute,
    Device,
    ElectronicSignature,
    Episode,
    EpisodeStateChange,
    IdentifierSequence,
    ManufacturingSite,
    Patient,
    Product,
    ProductIndication,
    ReleaseSpecification,
    RoleAssignment,
    TreatmentCenter,
    User,
)
from cartflow.models.custody import CustodyContainer, CustodyDeviation, CustodyEvent
from cartflow.models.logistics_shipment import (
    Quarantine,
    QuarantinedContainer,
    Shipment,
    TemperatureImport,
    TemperatureReading,
)


def purge(engine: Engine, *, site_id: uuid.UUID, extra_users: list[uuid.UUID]) -> None:
    """Delete the network, people and episodes the test committed (not their audit events)."""
    with Session(engine) as s, s.begin():
        site = s.get(ManufacturingSite, site_id)
        assert site is not None
        centers = list(
            s.execute(
                select(CenterSiteRoute.center_id).where(CenterSiteRoute.site_id == site_id)
            ).scalars()
        )
        products = list(
            s.execute(select(Product.id).where(Product.manufacturing_site_id == site_id)).scalars()
        )
        episodes = list(
            s.execute(select(Episode.id).where(Episode.center_id.in_(centers))).scalars()
        )
        users = set(extra_users) | set(
            s.execute(
                select(RoleAssignment.user_id).where(
                    or_(RoleAssignment.center_id.in_(centers), RoleAssignment.site_id == site_id)
                )
            ).scalars()
        )
        shipments = list(
            s.execute(select(Shipment.id).where(Shipment.episode_id.in_(episodes))).scalars()
        )
        imports = select(TemperatureImport.id).where(TemperatureImport.shipment_id.in_(shipments))
        quarantines = select(Quarantine.id).where(Quarantine.episode_id.in_(episodes))
        for statement in (
            delete(TemperatureReading).where(TemperatureReading.import_id.in_(imports)),
            delete(TemperatureImport).where(TemperatureImport.shipment_id.in_(shipments)),
            delete(QuarantinedContainer).where(QuarantinedContainer.quarantine_id.in_(quarantines)),
            delete(Quarantine).where(Quarantine.episode_id.in_(episodes)),
            delete(CustodyEvent).where(CustodyEvent.episode_id.in_(episodes)),
            delete(CustodyDeviation).where(CustodyDeviation.episode_id.in_(episodes)),
            delete(CustodyContainer).where(CustodyContainer.episode_id.in_(episodes)),
            delete(Shipment).where(Shipment.id.in_(shipments)),
            delete(EpisodeStateChange).where(EpisodeStateChange.episode_id.in_(episodes)),
            delete(Episode).where(Episode.id.in_(episodes)),
            delete(Patient).where(Patient.center_id.in_(centers)),
            delete(ElectronicSignature).where(ElectronicSignature.signer_id.in_(users)),
            delete(AuthSession).where(AuthSession.user_id.in_(users)),
            delete(RoleAssignment).where(RoleAssignment.user_id.in_(users)),
            delete(User).where(User.id.in_(users)),
            delete(IdentifierSequence).where(
                IdentifierSequence.facility_identification_number
                == site.facility_identification_number
            ),
            delete(CenterSiteRoute).where(CenterSiteRoute.site_id == site_id),
            delete(Device).where(Device.site_id == site_id),
            delete(ProductIndication).where(ProductIndication.product_id.in_(products)),
            delete(ReleaseSpecification).where(ReleaseSpecification.product_id.in_(products)),
            delete(Product).where(Product.id.in_(products)),
            delete(TreatmentCenter).where(TreatmentCenter.id.in_(centers)),
            delete(ManufacturingSite).where(ManufacturingSite.id == site_id),
        ):
            s.execute(statement)
