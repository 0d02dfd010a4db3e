"""Split raw Kafka records into valid events and dead letters (pure; errors as data).

A record holds one event or a batch of one site's events (see
:func:`riskstream.events.decode_event_record`); a bad event costs only itself.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from riskstream.deadletter import DeadLetter
from riskstream.events import Event, EventError, decode_event_record

Decoded = list[tuple[bytes, Event | EventError]]


class SharedDecoder:
    """Decodes each ``rs.events`` record once for ``readers`` agents of one process.

    In ``--role all`` the correlator and the events store agent both read every record; the
    first to reach it decodes it and leaves the result for the other, keyed by
    ``topic/partition@offset`` (a Kafka offset always holds the same bytes, and events are
    immutable, so sharing is safe). With one reader nothing is kept.

    The cache holds at most ``max_events`` events (~1 KB each). When it is full, a new record
    is not cached, rather than the oldest evicted: the lagging reader reads in offset order,
    so the oldest entries are exactly the ones it needs next, and evicting them would make
    every one of its reads a miss once the leader is ``max_events`` ahead (the correlator's
    batches alone reach 100k events). Entries nobody read for ``stale_s`` (their partition
    moved away, say) are evicted so they cannot hold the space forever.
    """

    def __init__(self, readers: int, max_events: int = 100_000, stale_s: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.readers, self.max_events, self.stale_s = readers, max_events, stale_s
        self._clock = clock
        self._cache: OrderedDict[str, tuple[int, float, Decoded]] = OrderedDict()
        # Records decoded while the cache was full: their later readers must not cache them
        # again (nobody would come for them). Keys only, so cheap; stale ones are dropped.
        self._uncached: OrderedDict[str, tuple[int, float]] = OrderedDict()
        self._events = 0
        self._lock = threading.Lock()
        self.hits = 0  # reads served from the cache
        self.decoded = 0  # records decoded (two per record when the cache could not help)
        self.not_cached = 0

    def decode(self, source: str, payload: bytes | None) -> Decoded:
        if self.readers < 2:
            return decode_event_record(payload)
        with self._lock:
            entry = self._cache.pop(source, None)
            if entry is not None:
                left, at, items = entry
                self.hits += 1
                if left > 1:
                    self._cache[source] = (left - 1, at, items)
                else:
                    self._events -= len(items)
                return items
            skipped = self._uncached.pop(source, None)
            self.decoded += 1
        items = decode_event_record(payload)
        with self._lock:
            now = self._clock()
            if skipped is not None:  # a later reader of a record the cache had no room for
                if skipped[0] > 1:
                    self._uncached[source] = (skipped[0] - 1, skipped[1])
                return items
            self._drop_stale(now, len(items))
            if self._events + len(items) <= self.max_events:
                self._cache[source] = (self.readers - 1, now, items)
                self._events += len(items)
            else:
                self.not_cached += 1
                self._uncached[source] = (self.readers - 1, now)
        return items

    def _drop_stale(self, now: float, room: int) -> None:
        """Entries nobody came for within ``stale_s`` (their partition moved away, say)."""
        while self._cache and self._events + room > self.max_events:
            _, at, items = next(iter(self._cache.values()))
            if now - at < self.stale_s:
                break
            self._cache.popitem(last=False)
            self._events -= len(items)
        while self._uncached and now - next(iter(self._uncached.values()))[1] >= self.stale_s:
            self._uncached.popitem(last=False)


@dataclass(frozen=True, slots=True)
class RawRecord:
    value: bytes | None
    key: bytes | None
    source: str  # "topic/partition@offset"


def decode_events(records: Iterable[RawRecord], stage: str = "worker.decode",
                  decode: Callable[[str, bytes | None], Decoded] | None = None,
                  ) -> tuple[list[Event], list[DeadLetter]]:
    events: list[Event] = []
    dead: list[DeadLetter] = []
    for rec in records:
        site = rec.key.decode("utf-8", "replace") if rec.key else None
        items = decode(rec.source, rec.value) if decode else decode_event_record(rec.value)
        for raw, item in items:
            if isinstance(item, EventError):
                dead.append(DeadLetter(stage=stage, reason=str(item), source=rec.source,
                                       payload=raw, site_id=site))
            else:
                events.append(item)
    return events, dead
