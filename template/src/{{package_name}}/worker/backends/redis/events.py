"""Job events in Redis: a stream per job that expires with the job's result.

``XREAD BLOCK`` waits for new events on every followed job at once, so one
connection per API process serves all its clients.
"""

import json
from collections.abc import Mapping
from typing import Any, cast

from redis.asyncio import Redis
from redis.typing import KeyT, StreamIdT

from ....jobs.events import JobEvent

# KEYS: the job's stream. ARGV: name, data, ttl in seconds. Appending and
# renewing the expiry in one script is atomic like MULTI/EXEC, at half the
# client's CPU (one command to encode and one reply to parse, not four): a
# worker appends two events per task.
_APPEND = """
redis.call('XADD', KEYS[1], '*', 'name', ARGV[1], 'data', ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
"""


class RedisJobEventLog:
    def __init__(
        self, url: str, *, prefix: str, ttl_seconds: int, **connection_kwargs: Any
    ) -> None:
        self.redis = Redis.from_url(url, **connection_kwargs)
        self.prefix = prefix
        self.ttl_seconds = ttl_seconds
        self._append = self.redis.register_script(_APPEND)

    def key(self, job_id: str) -> str:
        return f"{self.prefix}:job-events:{job_id}"

    async def append(self, job_id: str, name: str, data: dict[str, Any]) -> None:
        await self._append(
            keys=[self.key(job_id)], args=[name, json.dumps(data), self.ttl_seconds]
        )

    async def read(
        self, cursors: Mapping[str, str], wait_seconds: float
    ) -> dict[str, list[JobEvent]]:
        if not cursors:
            return {}
        streams: dict[KeyT, StreamIdT] = {
            self.key(job_id): cursor for job_id, cursor in cursors.items()
        }
        block = int(wait_seconds * 1000)
        reply = await self.redis.xread(streams, block=block if block > 0 else None)
        if not reply:
            return {}
        # [[key, entries], …] in RESP2, {key: [entries]} in RESP3.
        pairs = reply.items() if isinstance(reply, dict) else reply
        job_ids = {self.key(job_id).encode(): job_id for job_id in cursors}
        found: dict[str, list[JobEvent]] = {}
        for key, entries in pairs:
            job_id = job_ids[key if isinstance(key, bytes) else key.encode()]
            for entry_id, fields in cast(
                "list[tuple[bytes, dict[bytes, bytes]]]", entries
            ):
                found.setdefault(job_id, []).append(
                    JobEvent(
                        entry_id.decode(),
                        fields[b"name"].decode(),
                        json.loads(fields[b"data"]),
                    )
                )
        return found

    async def close(self) -> None:
        await self.redis.aclose()
