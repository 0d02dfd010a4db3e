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

Commit offsets: Faust commits, per partition, up to the first hole in the offsets acked so
far, counting offsets Kafka never delivered ("gaps") as done. It keeps the acked offsets in a
list and fills gaps into it without checking for offsets already there; after a rebalance
(a seek back to the committed offset) the list held duplicates, its "first run of consecutive
offsets" was then one or two long, and the committed offset advanced by ~1 per commit (1 s):
measured, a partition took 40-60 s to commit 1,000 records a worker had processed in 9 s.
:meth:`_Consumer._new_offset` applies the rule to the set of offsets.

It no longer counts "gaps" as done. Faust records a gap whenever the next fetched offset of
a partition jumps, and after a rebalance that happens for a prefetched record of the old
generation arriving after the seek back: the offsets between the committed one and that
record were then "done" although nobody had processed them, the record itself is skipped by
the streams, which ack it anyway ("ack the filtered out message"), and the commit passed
them. Found by ``python -m benchmarks.faults`` (worker SIGKILL x3: 215 events committed and
never stored, their alerts short; riskstream's topics are neither compacted nor
transactional, so their offsets have no real gaps). Such an ack of a stale-generation record
is not recorded either. The jump itself no longer happens: Faust then moved its read offset
past the records in between and dropped them when they were fetched again, until a restart;
:meth:`_Consumer.getmany` asks :class:`~riskstream.streams.offset_guard.OffsetGuard` about
every record and seeks back instead of delivering a record that jumps ahead. A hole Kafka
confirms (two seeks back land past it again: retention deleted those records) is logged as an
error and committed past.

Nothing acked once the worker is stopping is committed (see :meth:`_Consumer.ack`).

The transport is found through the ``faust.transports`` entry point in pyproject.toml.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from typing import Any

from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP, Message

from riskstream.streams.offset_guard import Decision, OffsetGuard

log = logging.getLogger(__name__)
FETCH_MAX_WAIT_MS = 100


class _ConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        # read by AIOKafkaConsumer.start() when it builds its Fetcher
        consumer._fetch_max_wait_ms = FETCH_MAX_WAIT_MS
        return consumer


class _Consumer(faust_aiokafka.Consumer):
    _offset_guard: OffsetGuard

    def __post_init__(self) -> None:
        super().__post_init__()
        self._offset_guard = OffsetGuard()

    def _new_consumer_thread(self) -> faust_aiokafka.AIOKafkaConsumerThread:
        return _ConsumerThread(self, loop=self.loop, beacon=self.beacon)

    def ack(self, message: Any) -> bool:
        if message.generation_id != self.app.consumer_generation_id:
            message.acked = True  # skipped by the streams, not processed: never committed
            return False
        if getattr(self.app, "should_stop", False):
            # Stopping: Faust cancels the agents, and take_events acks a whole batch in its
            # ``finally`` even when the agent never finished it; the commit on stop then passed
            # records nobody stored (fault runner, two-worker rebalance: 19-74 events committed
            # and not in ClickHouse in 4 of 10 runs). Acks from now on are not committed: the
            # next owner reads those records again, and replays are recognised.
            message.acked = True
            return False
        return bool(super().ack(message))

    async def seek_to_committed(self) -> Mapping[TP, int]:
        offsets = await super().seek_to_committed()
        self._offset_guard.seeked_all(offsets.items())
        return offsets

    async def seek(self, partition: TP, offset: int) -> None:
        await super().seek(partition, offset)
        self._offset_guard.seeked(partition, offset)

    async def getmany(self, timeout: float) -> AsyncIterator[tuple[TP, Message]]:
        guard = self._offset_guard
        guard.new_batch()
        acks_enabled_for = self.app.topics.acks_enabled_for
        async for tp, message in super().getmany(timeout):
            if not acks_enabled_for(message.topic):  # changelogs are compacted: real gaps
                yield tp, message
                continue
            expected = guard.expected(tp)
            decision = guard.decide(tp, message.offset)
            if decision is Decision.REWIND:
                log.warning("%s: fetched offset %d where %s was next (a record of an earlier "
                            "fetch position): reading again from %s", tp, message.offset,
                            expected, expected)
                await self._rewind(tp, expected)  # type: ignore[arg-type]
            elif decision is Decision.GONE:
                log.error("%s: offsets %s to %d are no longer in Kafka (retention deleted "
                          "them before they were processed): continuing after them", tp,
                          expected, message.offset - 1)
            if decision in (Decision.DELIVER, Decision.GONE):
                yield tp, message

    async def _rewind(self, tp: TP, offset: int) -> None:
        try:
            await self.seek(tp, offset)
        except Exception as exc:  # revoked meanwhile (a rebalance): its next owner seeks
            self._offset_guard.seek_failed(tp)
            log.warning("%s: could not seek back to %d (%s): the partition's next assignment "
                        "starts from the committed offset", tp, offset, exc)

    async def _add_gap(self, tp: TP, offset_from: int, offset_to: int) -> None:
        """Faust would count the records of a jump as done; the guard rewinds instead."""

    def _new_offset(self, tp: TP) -> int | None:
        acked: list[int] = self._acked[tp]
        if not acked:
            return None
        done = set(acked)
        start = min(done)
        committed = self._committed_offset[tp]
        if committed is not None and start > committed and not \
                self._offset_guard.hole_covers(tp, committed, start):
            acked[:] = sorted(done)
            return None  # a record right after the committed offset is not done yet
        end = start
        while end + 1 in done:
            end += 1
        run = range(start, end + 1)
        done.difference_update(run)
        acked[:] = sorted(done)
        self._acked_index[tp].difference_update(run)
        return end + 1


class Transport(faust_aiokafka.Transport):
    Consumer = _Consumer
