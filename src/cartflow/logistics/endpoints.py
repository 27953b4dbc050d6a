"""HTTP endpoints of the logistics domain (being built)."""

from fastapi import APIRouter

router = APIRouter(tags=["logistics"])
