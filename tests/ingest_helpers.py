"""A real ingest pipeline answering consumers' control requests, for socket tests."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from channels.layers import get_channel_layer

from pulse.engine import Engine
from pulse.feeds.base import TickQueue
from pulse.ingest.pipeline import PulsePipeline
from pulse.realtime.broadcast import CONTROL_GROUP, Publisher
from tests.waiting import until


@contextlib.asynccontextmanager
async def running_ingest(engine: Engine, source: str = "ingest-t") -> AsyncIterator[PulsePipeline]:
    """Answer control-group requests with a pipeline around ``engine``, as ``runpulse`` does."""
    layer = get_channel_layer()
    pipeline = PulsePipeline(engine, TickQueue(10), {}, publisher=Publisher(layer, source))
    # Requests sent before the task joins the control group would be lost: wait for it (the
    # tests run on the in-memory layer, whose ``groups`` shows the members).
    before = set(layer.groups.get(CONTROL_GROUP, ()))
    task = asyncio.create_task(pipeline._control_loop(layer, CONTROL_GROUP))
    await until(lambda: set(layer.groups.get(CONTROL_GROUP, ())) - before,
                what="ingest joining the control group")
    try:
        yield pipeline
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
