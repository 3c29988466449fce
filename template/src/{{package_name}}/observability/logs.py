"""Logging for the API (uvicorn's loggers included) and the workers: JSON lines
in production, readable text in development, and on every line the request id
and task id of the code that logged it.

Standard library only: a filter that reads the ids from ``context`` and two
formatters, installed with ``logging.config.dictConfig`` (which uvicorn also
applies in each process it spawns for ``--workers`` and ``--reload``).
"""

import json
import logging
import logging.config
from datetime import UTC, datetime
from typing import Any, Literal

from . import context

PACKAGE = __name__.split(".")[0]
TEXT_FORMAT = "%(asctime)s %(levelname)s [pid %(process)d] %(name)s: %(message)s"
CONTEXT_FIELDS = ("request_id", "task_id")
# Attributes every LogRecord has; anything else came from ``extra=``.
_RECORD_ATTRIBUTES = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None))
) | {"message", "asctime", *CONTEXT_FIELDS}


class ContextFilter(logging.Filter):
    """Copies the current request id and task id onto each record."""

    def filter(self, record: logging.LogRecord) -> bool:
        for field in CONTEXT_FIELDS:
            if getattr(record, field, None) is None:
                setattr(record, field, getattr(context, field).get())
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``time`` (UTC, ISO 8601), ``level``,
    ``logger``, ``message``, ``pid``, then ``request_id``, ``task_id``,
    ``exception`` and any ``extra=`` fields when present."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,
        }
        for field in CONTEXT_FIELDS:
            if (value := getattr(record, field, None)) is not None:
                entry[field] = value
        for key, value in vars(record).items():
            if key not in _RECORD_ATTRIBUTES and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str)


class TextFormatter(logging.Formatter):
    """The usual one-line format, with ``request_id=… task_id=…`` appended
    when the line was logged for a request or a task."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802
        line = super().formatMessage(record)
        ids = [
            f"{field}={value}"
            for field in CONTEXT_FIELDS
            if (value := getattr(record, field, None)) is not None
        ]
        return " ".join([line, *ids])


class AlembicContextFilter(logging.Filter):
    """Drops the two lines alembic logs on every migration context ("Context
    impl SQLiteImpl.", "Will assume non-transactional DDL."): each upgrade step
    is still logged."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(("Context impl", "Will assume"))


def logging_config(log_format: Literal["text", "json"], level: str) -> dict[str, Any]:
    """A ``dictConfig`` that sends every logger, uvicorn's included, through
    one handler on stderr with the chosen formatter."""
    formatter = JsonFormatter if log_format == "json" else TextFormatter
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "context": {"()": f"{PACKAGE}.observability.logs.ContextFilter"},
            "alembic_context": {
                "()": f"{PACKAGE}.observability.logs.AlembicContextFilter"
            },
        },
        "formatters": {
            "default": {"()": f"{formatter.__module__}.{formatter.__qualname__}"}
        },
        "handlers": {
            "default": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "default",
                "filters": ["context"],
            }
        },
        "root": {"handlers": ["default"], "level": level},
        # uvicorn's loggers keep their own levels but log through the root's
        # handler instead of uvicorn's own formats.
        "loggers": {
            **{
                name: {"handlers": [], "propagate": True}
                for name in ("uvicorn", "uvicorn.error", "uvicorn.access")
            },
            # Seven "setup plugin" lines in every process that imports alembic.
            "alembic.runtime.plugins": {"level": "WARNING"},
            "alembic.runtime.migration": {"filters": ["alembic_context"]},
        },
    }


def configure_logging(log_format: Literal["text", "json"], level: str) -> None:
    logging.config.dictConfig(logging_config(log_format, level))
