"""Reference data of the network: sites and devices, centers and routes, products and their
versioned release specifications. Only admins change it; every change is audited. Anyone logged
in may read it (it holds no patient data)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from cartflow.audit.canonical import snapshot
from cartflow.audit.service import record_event
from cartflow.auth.actor import Actor
from cartflow.auth.dependencies import require_role
from cartflow.db.base import utcnow
from cartflow.errors import Conflict, InvalidInput, NotFound
from cartflow.i18n import _
from cartflow.models import (
    CenterSiteRoute,
    Device,
    ManufacturingSite,
    Product,
    ProductIndication,
    ReleaseSpecification,
    Role,
    TreatmentCenter,
)
from cartflow.network.schemas import (
    CenterIn,
    CenterOut,
    IndicationOut,
    ProductIn,
    ProductOut,
    RouteOut,
    SiteIn,
    SpecificationIn,
    SpecificationOut,
)

_NOISE = frozenset({"created_at", "updated_at"})


def _require_admin(actor: Actor) -> None:
    require_role(actor, Role.ADMIN)


def _site_by_code(session: Session, code: str, *, field: str) -> ManufacturingSite:
    site = session.execute(
        select(ManufacturingSite).where(ManufacturingSite.code == code)
    ).scalar_one_or_none()
    if site is None:
        raise InvalidInput(_("unknown manufacturing site {code!r}", code=code), field=field)
    return site


def create_site(session: Session, *, actor: Actor, data: SiteIn) -> ManufacturingSite:
    _require_admin(actor)
    if session.execute(
        select(ManufacturingSite.id).where(
            (ManufacturingSite.code == data.code)
            | (
                ManufacturingSite.facility_identification_number
                == data.facility_identification_number
            )
        )
    ).first():
        raise Conflict(
            _("a site with this code or facility identification number exists"),
            code="SITE-EXISTS",
        )
    site = ManufacturingSite(**data.model_dump(exclude={"devices"}))
    session.add(site)
    session.flush()
    for device in data.devices:
        session.add(Device(site_id=site.id, code=device.code, kind=device.kind))
    session.flush()
    after = snapshot(site, exclude=_NOISE) | {"devices": [d.code for d in data.devices]}
    record_event(
        session,
        actor=actor.as_audit_actor(),
        record_type="manufacturing_site",
        record_id=site.id,
        action="create",
        after=after,
    )
    return get_site(session, code=site.code)


def get_site(session: Session, *, code: str) -> ManufacturingSite:
    site = session.execute(
        select(ManufacturingSite)
        .where(ManufacturingSite.code == code)
        .options(selectinload(ManufacturingSite.devices))
    ).scalar_one_or_none()
    if site is None:
        raise NotFound(_("no manufacturing site {code!r}", code=code))
    return site


def list_sites(session: Session) -> list[ManufacturingSite]:
    return list(
        session.execute(
            select(ManufacturingSite)
            .options(selectinload(ManufacturingSite.devices))
            .order_by(ManufacturingSite.code)
        ).scalars()
    )


def create_center(session: Session, *, actor: Actor, data: CenterIn) -> TreatmentCenter:
    _require_admin(actor)
    if session.execute(select(TreatmentCenter.id).where(TreatmentCenter.code == data.code)).first():
        raise Conflict(
            _("a center with code {code!r} exists", code=data.code), code="CENTER-EXISTS"
        )
    center = TreatmentCenter(**data.model_dump(exclude={"routes"}))
    session.add(center)
    session.flush()
    for route in data.routes:
        site = _site_by_code(session, route.site, field="routes.site")
        session.add(
            CenterSiteRoute(
                center_id=center.id,
                site_id=site.id,
                transit_days=route.transit_days,
                courier_weekdays=route.courier_weekdays,
            )
        )
    session.flush()
    after = snapshot(center, exclude=_NOISE) | {"routes": [r.model_dump() for r in data.routes]}
    record_event(
        session,
        actor=actor.as_audit_actor(),
        record_type="treatment_center",
        record_id=center.id,
        action="create",
        after=after,
    )
    return center


def list_centers(session: Session) -> list[CenterOut]:
    centers = session.execute(
        select(TreatmentCenter)
        .options(selectinload(TreatmentCenter.routes).joinedload(CenterSiteRoute.site))
        .order_by(TreatmentCenter.code)
    ).scalars()
    return [center_out(c) for c in centers]


def get_center(session: Session, *, code: str) -> CenterOut:
    center = session.execute(
        select(TreatmentCenter)
        .where(TreatmentCenter.code == code)
        .options(selectinload(TreatmentCenter.routes).joinedload(CenterSiteRoute.site))
    ).scalar_one_or_none()
    if center is None:
        raise NotFound(_("no treatment center {code!r}", code=code))
    return center_out(center)


def center_out(center: TreatmentCenter) -> CenterOut:
    return CenterOut(
        id=center.id,
        code=center.code,
        name=center.name,
        city=center.city,
        timezone=center.timezone,
        population=center.population,
        apheresis_chairs_per_day=center.apheresis_chairs_per_day,
        infusion_beds_per_day=center.infusion_beds_per_day,
        active=center.active,
        routes=[
            RouteOut(
                site_id=r.site_id,
                site_code=r.site.code,
                transit_days=r.transit_days,
                courier_weekdays=r.courier_weekdays,
            )
            for r in sorted(center.routes, key=lambda r: r.site.code)
        ],
    )


def create_product(session: Session, *, actor: Actor, data: ProductIn) -> Product:
    _require_admin(actor)
    if session.execute(select(Product.id).where(Product.code == data.code)).first():
        raise Conflict(
            _("a product with code {code!r} exists", code=data.code), code="PRODUCT-EXISTS"
        )
    site = _site_by_code(session, data.manufacturing_site, field="manufacturing_site")
    diagnoses = [i.diagnosis for i in data.indications]
    if len(set(diagnoses)) != len(diagnoses):
        raise InvalidInput(
            _("each diagnosis may appear once among indications"), field="indications"
        )
    for i in data.indications:
        if i.max_age_years is not None and i.max_age_years < i.min_age_years:
            raise InvalidInput(
                _(
                    "indication {diagnosis}: max_age_years is below min_age_years",
                    diagnosis=i.diagnosis.value,
                ),
                field="indications",
            )
    product = Product(
        **data.model_dump(exclude={"indications", "specification", "manufacturing_site"}),
        manufacturing_site_id=site.id,
    )
    session.add(product)
    session.flush()
    for indication in data.indications:
        session.add(ProductIndication(product_id=product.id, **indication.model_dump()))
    session.flush()
    session.expire(product, ["indications", "specifications"])
    record_event(
        session,
        actor=actor.as_audit_actor(),
        record_type="product",
        record_id=product.id,
        action="create",
        after=snapshot(product, exclude=_NOISE)
        | {"indications": [i.model_dump(mode="json") for i in data.indications]},
    )
    if data.specification is not None:
        add_specification(session, actor=actor, product_code=product.code, data=data.specification)
    return product


def add_specification(
    session: Session, *, actor: Actor, product_code: str, data: SpecificationIn
) -> ReleaseSpecification:
    """A new specification version supersedes the current one; old versions stay readable."""
    _require_admin(actor)
    # Refuse a specification QC could not test against, when it is added rather than at release.
    from cartflow.manufacturing.specs import parse_criteria

    parse_criteria(data.criteria)
    product = _product_by_code(session, product_code)
    current = session.execute(
        select(ReleaseSpecification)
        .where(
            ReleaseSpecification.product_id == product.id,
            ReleaseSpecification.superseded_at.is_(None),
        )
        .with_for_update()
    ).scalar_one_or_none()
    now = utcnow()
    version = 1
    if current is not None:
        current.superseded_at = now
        version = current.version + 1
    spec = ReleaseSpecification(
        product_id=product.id,
        version=version,
        effective_from=now,
        criteria=data.criteria,
        source=data.source,
    )
    session.add(spec)
    session.flush()
    session.expire(product, ["specifications"])
    record_event(
        session,
        actor=actor.as_audit_actor(),
        record_type="release_specification",
        record_id=spec.id,
        action="create",
        after=snapshot(spec),
    )
    return spec


def _product_by_code(session: Session, code: str) -> Product:
    product = session.execute(
        select(Product)
        .where(Product.code == code)
        .options(
            selectinload(Product.indications),
            selectinload(Product.specifications),
        )
    ).scalar_one_or_none()
    if product is None:
        raise NotFound(_("no product {code!r}", code=code))
    return product


def get_product(session: Session, *, code: str) -> ProductOut:
    return product_out(session, _product_by_code(session, code))


def list_products(session: Session) -> list[ProductOut]:
    codes = session.execute(select(Product.code).order_by(Product.code)).scalars().all()
    return [get_product(session, code=c) for c in codes]


def product_out(session: Session, product: Product) -> ProductOut:
    site = session.get(ManufacturingSite, product.manufacturing_site_id)
    assert site is not None
    current = next((s for s in product.specifications if s.superseded_at is None), None)
    return ProductOut(
        id=product.id,
        code=product.code,
        name=product.name,
        inn=product.inn,
        kind=product.kind,
        holder=product.holder,
        target_antigen=product.target_antigen,
        isbt_product_code=product.isbt_product_code,
        manufacturing_site_code=site.code,
        manufacturing_days=product.manufacturing_days,
        qc_days=product.qc_days,
        shelf_life_days=product.shelf_life_days,
        storage_temperature_max_c=product.storage_temperature_max_c,
        post_thaw_window_minutes=product.post_thaw_window_minutes,
        fresh_apheresis_max_hours=product.fresh_apheresis_max_hours,
        gene_modified=product.gene_modified,
        active=product.active,
        indications=[IndicationOut.model_validate(i) for i in product.indications],
        current_specification=(
            SpecificationOut(
                version=current.version,
                criteria=current.criteria,
                source=current.source,
                superseded=False,
            )
            if current is not None
            else None
        ),
    )
