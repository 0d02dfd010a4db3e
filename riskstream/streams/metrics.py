"""Prometheus metrics of the stream workers."""

from typing import Protocol

from prometheus_client import Counter, Gauge, Histogram

CONSUMED = Counter("riskstream_worker_records_consumed_total", "Records read, per agent",
                   ["agent"])
STORED = Counter("riskstream_worker_rows_stored_total", "Rows written to ClickHouse", ["table"])
DEAD_LETTERS = Counter("riskstream_worker_dead_letters_total", "Records sent to the DLQ",
                       ["stage"])
SINK_RETRIES = Counter("riskstream_worker_sink_retries_total", "Failed ClickHouse writes retried",
                       ["table"])
SINK_UP = Gauge("riskstream_worker_sink_up", "1 while the last ClickHouse write succeeded",
                ["table"])
EVENTS_CORRELATED = Counter("riskstream_worker_events_correlated_total",
                            "Events through the correlator (a record may carry many)")
DUPLICATES = Counter("riskstream_worker_duplicate_events_total",
                     "Re-sent events (an event id seen before) dropped by the correlator")
REPLAYED = Counter("riskstream_worker_replayed_records_total",
                   "Records read again after a restart or rebalance, already in the state")
ALERTS = Counter("riskstream_worker_alerts_published_total", "Alert revisions sent to rs.alerts",
                 ["status"])
FORWARDED = Counter("riskstream_worker_forwarded_records_total",
                    "Records that arrived on another partition than their site's (a producer "
                    "not using murmur2 of the site_id) and were forwarded there", ["topic"])
RETRIES = Counter("riskstream_worker_correlate_retries_total",
                  "Failed attempts to deliver or store a correlated batch (retried; the batch "
                  "is not acknowledged meanwhile)", ["what"])
STATE_SHED = Counter("riskstream_worker_state_shed_total",
                     "Rule windows dropped to keep a site's state record within its byte limit",
                     ["rule"])
SKIPPED = Counter("riskstream_worker_skipped_total", "Records skipped without a DLQ entry",
                  ["reason"])
BATCH_SECONDS = Histogram("riskstream_worker_correlate_batch_seconds",
                          "Time to correlate one batch", buckets=(.001, .005, .02, .1, .5, 2, 10))
RECORD_AGE = Histogram("riskstream_worker_record_age_seconds",
                       "Wall time from a record's Kafka timestamp to the correlator taking it",
                       buckets=(.01, .05, .1, .25, .5, 1, 2, 5, 30))
SHARED_DECODE = Gauge("riskstream_worker_shared_decode_reads",
                      "rs.events reads of --role all's two agents: decoded, or served decoded "
                      "by the other agent (shared)", ["outcome"])


class _DecodeCounts(Protocol):
    hits: int
    decoded: int


def watch_shared_decoder(decoder: _DecodeCounts) -> None:
    SHARED_DECODE.labels("shared").set_function(lambda: decoder.hits)
    SHARED_DECODE.labels("decoded").set_function(lambda: decoder.decoded)
