from fastapi import APIRouter, HTTPException, Response, status
from prometheus_client import CONTENT_TYPE_LATEST

from ..deps import Public, SettingsDep
from .metrics import render, scrape_registry
from .queue_depth import QueueDepthCollector

# Public, for Prometheus: let only the scraper reach /metrics (README: Security).
router = APIRouter(tags=["observability"], dependencies=[Public])


@router.get("/metrics", include_in_schema=False)
def metrics(settings: SettingsDep) -> Response:
    """Prometheus metrics of every API process, and the queue's depth.

    A ``def`` route: FastAPI runs it in a thread, where the blocking read of
    the queue depth cannot hold up other requests.
    """
    if not settings.metrics_enabled:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Metrics are disabled")
    registry = scrape_registry(QueueDepthCollector(settings))
    return Response(render(registry), media_type=CONTENT_TYPE_LATEST)
