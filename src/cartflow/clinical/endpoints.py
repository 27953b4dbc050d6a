"""HTTP endpoints of the clinical domain (being built)."""

from fastapi import APIRouter

router = APIRouter(tags=["clinical"])
