"""Row-by-row export: the result set is never held in memory."""

import csv
import io
import json
from collections.abc import AsyncIterator, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Executable

# Rows fetched from the database cursor per round trip.
FETCH_SIZE = 1000


async def stream_rows(
    session: AsyncSession, query: Executable
) -> AsyncIterator[Sequence[Any]]:
    result = await session.stream(query, execution_options={"yield_per": FETCH_SIZE})
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
        writer.writerow([neutralised(value) for value in row])
        if buffer.tell() >= 64 * 1024:
            yield _take(buffer)
    yield _take(buffer)


async def json_lines(
    header: Sequence[str], rows: AsyncIterator[Sequence[Any]]
) -> AsyncIterator[str]:
    async for row in rows:
        yield json.dumps(dict(zip(header, row, strict=True)), default=str) + "\n"


def _take(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text
