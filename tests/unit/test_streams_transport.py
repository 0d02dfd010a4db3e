"""The workers' Faust transport: Faust's aiokafka consumer with a short fetch long-poll."""

from __future__ import annotations

import asyncio
from pathlib import Path

from riskstream.config import load
from riskstream.streams.app import create_app
from riskstream.streams.transport import FETCH_MAX_WAIT_MS, Transport

REPO = Path(__file__).resolve().parents[2]


def test_the_worker_consumer_long_polls_briefly(tmp_path: Path) -> None:
    async def build() -> int:
        cfg = load(REPO / "config" / "demo.yaml", environ={})
        app = create_app(cfg, "correlate", tmp_path)
        # the broker URL's scheme finds the transport through the faust.transports entry point
        assert isinstance(app.transport, Transport)
        consumer = app.consumer._new_consumer_thread()._create_worker_consumer(app.transport)
        try:
            return int(consumer._fetch_max_wait_ms)  # Faust's own value is 1500
        finally:
            await consumer.stop()  # never started: only releases what the constructor made

    assert asyncio.run(build()) == FETCH_MAX_WAIT_MS <= 100
