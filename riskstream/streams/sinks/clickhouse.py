"""Batched event sink into ClickHouse ``events``.

``write`` either stores the whole batch or raises :class:`SinkUnavailable` carrying
``retry_after``; the caller waits and retries the same batch, and acknowledges the Kafka
offsets only afterwards, so an outage delays data but never drops it. Re-delivered
event_ids are folded by the table's ReplacingMergeTree.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from riskstream.events import Event
from riskstream.storage.migrations import migrate
from riskstream.storage.rows import EVENT_COLUMNS, event_rows

log = logging.getLogger(__name__)


class SinkUnavailable(Exception):
    """The store cannot take the batch now; try again after ``retry_after`` seconds."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ClickHouseEventSink:
    def __init__(self, client: Any, database: str) -> None:
        self._client = client
        self._table = f"{database}.events"
        self._database = database
        self._failures = 0

    def ensure_schema(self) -> list[int]:
        return migrate(self._client, self._database)

    def write(self, batch: Sequence[Event]) -> int:
        if not batch:
            return 0
        try:
            self._client.insert(self._table, event_rows(batch), column_names=EVENT_COLUMNS)
        except Exception as exc:
            self._failures += 1
            retry_after = min(30.0, 0.5 * 2 ** min(self._failures, 6))
            raise SinkUnavailable(f"clickhouse insert failed: {exc}", retry_after) from exc
        self._failures = 0
        return len(batch)
