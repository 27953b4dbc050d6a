"""HTTP endpoints of the audit domain (being built)."""

from fastapi import APIRouter

router = APIRouter(tags=["audit"])
