"""HTTP endpoints of the clinical domain, mounted under /api/v1 (paths under /clinical).

Before the infusion (`endpoints_before`): product protocol, consent, eligibility, lymphodepletion,
CAR-HEMATOTOX, the two-person bedside identity check and the infusion. After it
(`endpoints_after`): toxicity assessments and treatments, ICAHT, response, progression, death,
follow-up and the worklists. The grading contract is `grading_endpoints` (/grading).
"""

from fastapi import APIRouter

from cartflow.clinical.endpoints_after import router as after_router
from cartflow.clinical.endpoints_before import router as before_router

router = APIRouter(tags=["clinical"])
router.include_router(before_router)
router.include_router(after_router)
