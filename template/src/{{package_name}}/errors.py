"""Refusals that never echo the client's input.

FastAPI's own 422 repeats each invalid value: a password comes back whole (a
1 MB one too), and a value JSON cannot encode again (``NaN``, ``1e999``, a lone
surrogate) turns the refusal itself into a 500. This one names the field, the
rule and the reason, and nothing the client sent.
"""

from fastapi import Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse


def printable(text: str) -> str:
    """``text`` as valid UTF-8: a lone surrogate becomes an escape."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


async def validation_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    detail = [
        {
            "type": error["type"],
            "loc": [
                printable(str(part)) if isinstance(part, str) else part
                for part in error["loc"]
            ],
            "msg": printable(error["msg"]),
        }
        for error in exc.errors()
    ]
    return JSONResponse(
        {"detail": detail}, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT
    )
