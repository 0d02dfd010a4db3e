"""Batched sinks into ClickHouse tables.

``write`` either stores the whole batch or raises :class:`SinkUnavailable` carrying
``retry_after``; the caller waits and retries the same batch, and acknowledges the Kafka
offsets only afterwards, so an outage delays data but never drops it. Re-delivered rows fold
in the tables' ReplacingMergeTree keys (event_id; alert_id + revision).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, Generic, TypeVar

from riskstream.storage.rows import TableMapping

log = logging.getLogger(__name__)
T = TypeVar("T")


class SinkUnavailable(Exception):
    """The store cannot take the batch now; try again after ``retry_after`` seconds."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class TableSink(Generic[T]):
    def __init__(self, client: Any, database: str, mapping: TableMapping[T]) -> None:
        self._client = client
        self._mapping = mapping
        self.table = f"{database}.{mapping.table}"
        self._failures = 0

    def write(self, batch: Sequence[T]) -> int:
        if not batch:
            return 0
        # Column-oriented: zip transposes in C; handing clickhouse-connect rows makes it
        # transpose them cell by cell in Python (a tenth of a worker's time at 20k events/s).
        columns = list(zip(*self._mapping.rows(batch), strict=True))
        try:
            self._client.insert(self.table, columns, column_names=self._mapping.columns,
                                column_oriented=True)
        except Exception as exc:
            self._failures += 1
            retry_after = min(5.0, 0.25 * 2 ** min(self._failures, 6))  # < stall timeouts
            raise SinkUnavailable(f"insert into {self.table} failed: {exc}", retry_after) from exc
        self._failures = 0
        return len(batch)
