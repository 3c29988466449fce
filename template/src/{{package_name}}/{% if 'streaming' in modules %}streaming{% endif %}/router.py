from fastapi import APIRouter

from .events_router import router as events_router
from .export_router import router as export_router
from .report_router import router as report_router

router = APIRouter()
router.include_router(export_router)
router.include_router(report_router)
router.include_router(events_router)
