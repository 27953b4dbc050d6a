"""HTTP endpoints of the manufacturing domain (being built)."""

from fastapi import APIRouter

router = APIRouter(tags=["manufacturing"])
