"""Reference data over HTTP: read by anyone logged in, changed by admins."""

from __future__ import annotations

from fastapi import APIRouter, status

from cartflow.auth.dependencies import CurrentActor, CurrentUser
from cartflow.db.session import DbSession
from cartflow.models import ManufacturingSite
from cartflow.network import service
from cartflow.network.schemas import (
    CenterIn,
    CenterOut,
    ProductIn,
    ProductOut,
    SiteIn,
    SiteOut,
    SpecificationIn,
    SpecificationOut,
)

router = APIRouter(tags=["network reference data"])


@router.get("/sites", response_model=list[SiteOut])
def list_sites(session: DbSession, _user: CurrentUser) -> list[ManufacturingSite]:
    return service.list_sites(session)


@router.get("/sites/{code}", response_model=SiteOut)
def get_site(code: str, session: DbSession, _user: CurrentUser) -> ManufacturingSite:
    return service.get_site(session, code=code)


@router.post("/sites", response_model=SiteOut, status_code=status.HTTP_201_CREATED)
def create_site(body: SiteIn, session: DbSession, actor: CurrentActor) -> ManufacturingSite:
    return service.create_site(session, actor=actor, data=body)


@router.get("/centers", response_model=list[CenterOut])
def list_centers(session: DbSession, _user: CurrentUser) -> list[CenterOut]:
    return service.list_centers(session)


@router.get("/centers/{code}", response_model=CenterOut)
def get_center(code: str, session: DbSession, _user: CurrentUser) -> CenterOut:
    return service.get_center(session, code=code)


@router.post("/centers", response_model=CenterOut, status_code=status.HTTP_201_CREATED)
def create_center(body: CenterIn, session: DbSession, actor: CurrentActor) -> CenterOut:
    center = service.create_center(session, actor=actor, data=body)
    return service.get_center(session, code=center.code)


@router.get("/products", response_model=list[ProductOut])
def list_products(session: DbSession, _user: CurrentUser) -> list[ProductOut]:
    return service.list_products(session)


@router.get("/products/{code}", response_model=ProductOut)
def get_product(code: str, session: DbSession, _user: CurrentUser) -> ProductOut:
    return service.get_product(session, code=code)


@router.post("/products", response_model=ProductOut, status_code=status.HTTP_201_CREATED)
def create_product(body: ProductIn, session: DbSession, actor: CurrentActor) -> ProductOut:
    product = service.create_product(session, actor=actor, data=body)
    return service.get_product(session, code=product.code)


@router.post(
    "/products/{code}/specifications",
    response_model=SpecificationOut,
    status_code=status.HTTP_201_CREATED,
)
def add_specification(
    code: str, body: SpecificationIn, session: DbSession, actor: CurrentActor
) -> SpecificationOut:
    spec = service.add_specification(session, actor=actor, product_code=code, data=body)
    return SpecificationOut(
        version=spec.version, criteria=spec.criteria, source=spec.source, superseded=False
    )
