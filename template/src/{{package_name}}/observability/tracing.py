"""Optional OpenTelemetry tracing, API request -> task, off unless configured.

On when ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``)
is set; needs the ``tracing`` extra (``uv sync --extra tracing``). FastAPI's
instrumentation opens a span per request; taskiq's own OpenTelemetry middleware
opens a span when a task is sent (a child of the request's span) and carries
its context in the message's labels, so the worker's span for the task is a
child of it, in another process or on another host.
"""

import importlib
import os
from typing import TYPE_CHECKING

from fastapi import FastAPI
from taskiq import AsyncBroker

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

ENDPOINT_VARIABLES = (
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
)
PACKAGE = __name__.split(".")[0]
REQUIRED_MODULES = (
    "opentelemetry.exporter.otlp.proto.http.trace_exporter",
    "opentelemetry.instrumentation.fastapi",
    "opentelemetry.sdk.trace",
    "taskiq.middlewares.opentelemetry_middleware",
)
MISSING = (
    "{variable} is set, but the tracing packages are missing: "
    "install the service with its `tracing` extra (uv sync --extra tracing)"
)


class TracingUnavailableError(Exception):
    """Tracing was asked for and cannot run; the message says what to install."""


def tracing_requested() -> bool:
    return any(os.environ.get(variable) for variable in ENDPOINT_VARIABLES)


def check_tracing_installed() -> None:
    try:
        for module in REQUIRED_MODULES:
            importlib.import_module(module)
    except ImportError as exc:
        variable = next(v for v in ENDPOINT_VARIABLES if os.environ.get(v))
        raise TracingUnavailableError(MISSING.format(variable=variable)) from exc


def exporting_tracer_provider() -> "TracerProvider":
    """Spans batched to the OTLP/HTTP endpoint the ``OTEL_*`` variables name;
    also made the process's global provider, for spans of your own."""
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    current = trace.get_tracer_provider()
    if isinstance(current, TracerProvider):  # Set by an earlier app.
        return current
    service = os.environ.get("OTEL_SERVICE_NAME", PACKAGE)
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: service}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    return provider


def instrument(app: FastAPI, broker: AsyncBroker, provider: "TracerProvider") -> None:
    """Trace the app's requests and the broker's tasks with ``provider``."""
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
    from taskiq.middlewares.opentelemetry_middleware import OpenTelemetryMiddleware

    FastAPIInstrumentor.instrument_app(
        app, tracer_provider=provider, excluded_urls="/health/.*,/metrics"
    )
    # taskiq's TaskiqInstrumentor.instrument_broker (taskiq 0.13) checks an
    # attribute it never sets, so each call would add one more middleware:
    # the check is made here. First in line: the task's span is open before
    # any other middleware runs.
    if not any(isinstance(m, OpenTelemetryMiddleware) for m in broker.middlewares):
        middleware = OpenTelemetryMiddleware(tracer_provider=provider)
        middleware.set_broker(broker)
        broker.middlewares.insert(0, middleware)
