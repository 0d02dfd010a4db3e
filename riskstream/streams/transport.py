"""Faust's aiokafka transport with a short fetch long-poll (registered as ``riskstream://``).

Faust builds its worker consumer with ``fetch_max_wait_ms=1500`` and no setting to change it.
aiokafka keeps one fetch request in flight per broker and leaves out of it the partitions whose
records still wait to be taken by Faust; that request then holds only idle partitions
(rs.health, rs.alert-actions, quiet rs.events partitions), so the broker parks it for the whole
1.5 s, and the busy partitions cannot be fetched again until it returns. Under load the
correlator then received records in ~1 s bursts: measured at 5,000 events/s, MQTT -> alert
p50 0.9-1.6 s, p99 ~2 s; with a 20-100 ms long-poll p50 0.18-0.47 s, p99 0.51-1.5 s, the
spread being this shared 2-core machine (``python -m benchmarks.streams --parts latency``).
100 ms rather than 20: the same latency within that spread, and a fifth of the idle fetches
(each one costs the worker's consumer thread a little CPU: one worker did 29.0k events/s with
20 ms against 32.1k with 1.5 s in one A/B run).

The transport is found through the ``faust.transports`` entry point in pyproject.toml.
"""

from __future__ import annotations

from typing import Any

from faust.transport.drivers import aiokafka as faust_aiokafka

FETCH_MAX_WAIT_MS = 100


class _ConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        # read by AIOKafkaConsumer.start() when it builds its Fetcher
        consumer._fetch_max_wait_ms = FETCH_MAX_WAIT_MS
        return consumer


class _Consumer(faust_aiokafka.Consumer):
    def _new_consumer_thread(self) -> faust_aiokafka.AIOKafkaConsumerThread:
        return _ConsumerThread(self, loop=self.loop, beacon=self.beacon)


class Transport(faust_aiokafka.Transport):
    Consumer = _Consumer
