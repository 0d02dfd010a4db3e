"""Split raw Kafka records into valid events and dead letters (pure; errors as data).

A record holds one event or a batch of one site's events (see
:func:`riskstream.events.decode_event_record`); a bad event costs only itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from riskstream.deadletter import DeadLetter
from riskstream.events import Event, EventError, decode_event_record


@dataclass(frozen=True, slots=True)
class RawRecord:
    value: bytes | None
    key: bytes | None
    source: str  # "topic/partition@offset"


def decode_events(records: Iterable[RawRecord], stage: str = "worker.decode"
                  ) -> tuple[list[Event], list[DeadLetter]]:
    events: list[Event] = []
    dead: list[DeadLetter] = []
    for rec in records:
        site = rec.key.decode("utf-8", "replace") if rec.key else None
        for raw, item in decode_event_record(rec.value):
            if isinstance(item, EventError):
                dead.append(DeadLetter(stage=stage, reason=str(item), source=rec.source,
                                       payload=raw, site_id=site))
            else:
                events.append(item)
    return events, dead
