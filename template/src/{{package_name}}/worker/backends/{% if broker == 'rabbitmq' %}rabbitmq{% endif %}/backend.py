from typing import TYPE_CHECKING, Any

from taskiq import AsyncBroker, AsyncResultBackend

from ....jobs.events import JobEventLog
from ..interface import QueueCounts
from .broker import RabbitMQBroker

if TYPE_CHECKING:
    from ....settings import Settings


class RabbitMQBackend:
    name = "rabbitmq"
    schemes = ("amqp", "amqps")
    store_schemes: tuple[str, ...] = ()
    # Results, job events and modules' state live at APP_RESULT_BACKEND_URL.
    keeps_results = False

    def create_broker(self, settings: "Settings") -> AsyncBroker:
        return RabbitMQBroker(
            settings.broker_url,
            queue_name=settings.task_queue,
            max_deliveries=settings.task_max_deliveries,
            # Unacknowledged messages per worker process: those it runs at once
            # plus those it may hold in advance.
            prefetch=settings.worker_concurrency + settings.worker_prefetch,
            connect_timeout=settings.broker_timeout_seconds,
        )

    def create_result_backend(
        self,
        settings: "Settings",
        *,
        job_events: JobEventLog | None = None,
        keep_results: bool = True,
    ) -> AsyncResultBackend[Any]:
        raise TypeError("RabbitMQ keeps no results: set APP_RESULT_BACKEND_URL")

    def create_job_event_log(self, settings: "Settings") -> JobEventLog:
        raise TypeError("RabbitMQ keeps no job events: set APP_RESULT_BACKEND_URL")

    def read_queue_counts(self, settings: "Settings") -> QueueCounts | None:
        # RabbitMQ exports its queues' depths itself (its Prometheus plugin).
        return None
