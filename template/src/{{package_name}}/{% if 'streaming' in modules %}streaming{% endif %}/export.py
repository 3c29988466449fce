"""Row-by-row export: the result set is never held in memory."""

import csv
import io
import json
from collections.abc import AsyncIterator, Sequence
from typing import Any

from pydantic_core import to_jsonable_python
from sqlalchemy.ext.asyncio import AsyncResult, AsyncSession
from sqlalchemy.sql import Executable

# Rows fetched from the database cursor per round trip.
FETCH_SIZE = 1000


async def stream_rows(
    session: AsyncSession, query: Executable
) -> AsyncIterator[Sequence[Any]]:
    """Run the query now, read its rows as they are iterated: a database error
    (a missing table) is the endpoint's to answer, before the response starts."""
    result = await session.stream(query, execution_options={"yield_per": FETCH_SIZE})
    return _rows(result)


async def _rows(result: AsyncResult[Any]) -> AsyncIterator[Sequence[Any]]:
    async for partition in result.partitions():
        for row in partition:
            yield tuple(row)


# A spreadsheet runs a cell that starts with one of these as a formula
# (`=cmd|' /C calc'!A0`): OWASP's CSV injection advice is to prefix it with a
# quote, which makes it text. E-mail addresses may start with any of them.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "|")


def neutralised(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


async def csv_lines(
    header: Sequence[str], rows: AsyncIterator[Sequence[Any]]
) -> AsyncIterator[str]:
    """CSV text, quoted by the csv module (commas, quotes, newlines in data),
    with formulas neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    async for row in rows:
        writer.writerow([neutralised(_cell(value)) for value in row])
        if buffer.tell() >= 64 * 1024:
            yield _take(buffer)
    yield _take(buffer)


async def json_lines(
    header: Sequence[str], rows: AsyncIterator[Sequence[Any]]
) -> AsyncIterator[str]:
    async for row in rows:
        record = dict(zip(header, row, strict=True))
        yield json.dumps(record, default=to_jsonable_python) + "\n"


def _cell(value: Any) -> Any:
    """Values as the API writes them (pydantic's JSON: ISO 8601 timestamps)."""
    if value is None or isinstance(value, str | int | float):
        return value
    return to_jsonable_python(value)


def _take(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text
