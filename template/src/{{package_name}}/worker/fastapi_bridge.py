"""Run the FastAPI lifespan in workers so that tasks share the routes' dependencies."""

from collections.abc import Mapping
from typing import Any

import taskiq_fastapi
from fastapi import FastAPI, Request
from starlette.requests import HTTPConnection
from taskiq import AsyncBroker, TaskiqEvents, TaskiqState


def bind_fastapi(broker: AsyncBroker, app_factory: str) -> None:
    """Enter the app's lifespan once per worker process (via taskiq-fastapi)."""
    taskiq_fastapi.init(broker, app_factory)

    async def serve_request_from_context(state: TaskiqState) -> None:
        if not broker.is_worker_process:
            return
        # taskiq-fastapi registers Request as a dependency *override*, and any
        # override makes taskiq rebuild each task's dependency graph on every run
        # (~300 us per task). A context value is looked up without a rebuild.
        for key in (Request, HTTPConnection):
            factory = broker.dependency_overrides.pop(key)
            broker.add_dependency_context({key: factory()})

    broker.add_event_handler(TaskiqEvents.WORKER_STARTUP, serve_request_from_context)


def provide_app_state(
    broker: AsyncBroker, app: FastAPI, state: Mapping[str, Any]
) -> None:
    """Give in-process tasks (InMemoryBroker in tests) the app's lifespan state."""
    request = Request(scope={"app": app, "type": "http", "state": dict(state)})
    broker.add_dependency_context({Request: request, HTTPConnection: request})
