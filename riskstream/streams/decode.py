"""Split raw Kafka records into valid events and dead letters (pure; errors as data)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from riskstream.deadletter import DeadLetter
from riskstream.events import Event, EventError


@dataclass(frozen=True, slots=True)
class RawRecord:
    value: bytes | None
    key: bytes | None
    source: str  # "topic/partition@offset"


def decode_events(records: Iterable[RawRecord]) -> tuple[list[Event], list[DeadLetter]]:
    events: list[Event] = []
    dead: list[DeadLetter] = []
    for rec in records:
        try:
            if rec.value is None:
                raise EventError("payload", "empty record (tombstone)")
            event = Event.from_json(rec.value)
        except EventError as exc:
            site = rec.key.decode("utf-8", "replace") if rec.key else None
            dead.append(DeadLetter(stage="worker.decode", reason=str(exc), source=rec.source,
                                   payload=rec.value or b"", site_id=site))
            continue
        events.append(event)
    return events, dead
