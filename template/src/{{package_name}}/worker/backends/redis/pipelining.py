"""Script calls sent while a pipeline is on the wire go out together next.

A worker running many short tasks at once writes each one's ``running`` mark
and its result at nearly the same moments: sent one by one, each is a socket
write and a read of its own, which a profile shows as the largest cost of the
Redis worker (``StreamWriter.writelines``). Grouped, the tasks that finish while
one pipeline is in flight share the next: one write and one read for all of
them. Each caller still waits for its own reply and gets its own error; an idle
worker's single call goes out at once, as before.
"""

import asyncio
from typing import Any

from redis.asyncio import Redis
from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError
from redis.typing import EncodableT, KeyT

Call = tuple[AsyncScript, list[KeyT], list[EncodableT]]


class ScriptPipeline:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self._waiting: list[tuple[Call, asyncio.Future[Any]]] = []
        self._sender: asyncio.Task[None] | None = None

    async def call(
        self, script: AsyncScript, keys: list[KeyT], args: list[EncodableT]
    ) -> Any:
        done = asyncio.get_running_loop().create_future()
        self._waiting.append(((script, keys, args), done))
        if self._sender is None or self._sender.done():
            self._sender = asyncio.create_task(self._send())
        # Shielded: one caller cancelled does not cancel the others' writes.
        return await asyncio.shield(done)

    async def _send(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, []
            try:
                replies = await self._execute([call for call, _ in batch])
            except Exception as exc:
                replies = [exc] * len(batch)
            for (_, done), reply in zip(batch, replies, strict=True):
                if done.done():
                    continue
                if isinstance(reply, Exception):
                    done.set_exception(reply)
                else:
                    done.set_result(reply)

    async def _execute(self, calls: list[Call]) -> list[Any]:
        if len(calls) == 1:  # Nothing to share: skip the pipeline's overhead.
            script, keys, args = calls[0]
            try:
                return [await script(keys=keys, args=args)]
            except Exception as exc:
                return [exc]
        async with self.redis.pipeline(transaction=False) as pipeline:
            for script, keys, args in calls:
                # Not registered with the pipeline, which would then ask Redis
                # whether each script exists before every run: a round trip.
                pipeline.evalsha(script.sha, len(keys), *keys, *args)
            replies: list[Any] = await pipeline.execute(raise_on_error=False)
        for index, reply in enumerate(replies):
            if isinstance(reply, NoScriptError):  # Redis restarted: load it.
                script, keys, args = calls[index]
                try:
                    replies[index] = await script(keys=keys, args=args)
                except Exception as exc:
                    replies[index] = exc
        return replies
