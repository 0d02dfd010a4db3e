"""Prometheus metrics of the stream workers."""

from prometheus_client import Counter

CONSUMED = Counter("riskstream_worker_events_consumed_total", "Records read from rs.events")
STORED = Counter("riskstream_worker_events_stored_total", "Events written to ClickHouse")
DEAD_LETTERS = Counter("riskstream_worker_dead_letters_total", "Records sent to the DLQ",
                       ["stage"])
SINK_RETRIES = Counter("riskstream_worker_sink_retries_total", "Failed ClickHouse writes retried")
