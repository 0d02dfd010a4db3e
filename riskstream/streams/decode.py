"""Split raw Kafka records into valid events and dead letters (pure; errors as data).

A record holds one event or a batch of one site's events (see
:func:`riskstream.events.decode_event_record`); a bad event costs only itself.
"""

from __future__ import annotations

import threading
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
    immutable, so sharing is safe). A reader that lags more than ``max_events`` behind just
    decodes again. With one reader nothing is kept.
    """

    def __init__(self, readers: int, max_events: int = 50_000) -> None:
        self.readers, self.max_events = readers, max_events
        self._cache: OrderedDict[str, tuple[int, Decoded]] = OrderedDict()
        self._events = 0
        self._lock = threading.Lock()
        self.hits = 0

    def decode(self, source: str, payload: bytes | None) -> Decoded:
        if self.readers < 2:
            return decode_event_record(payload)
        with self._lock:
            entry = self._cache.pop(source, None)
            if entry is not None:
                left, items = entry
                self.hits += 1
                if left > 1:
                    self._cache[source] = (left - 1, items)
                else:
                    self._events -= len(items)
                return items
        items = decode_event_record(payload)
        with self._lock:
            self._cache[source] = (self.readers - 1, items)
            self._events += len(items)
            while self._events > self.max_events and self._cache:
                _, (_, old) = self._cache.popitem(last=False)
                self._events -= len(old)
        return items


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
