"""The Faust app: topics, tables and thin agents around the pure logic.

Roles (one Faust app, and so one consumer group, per role):

* ``correlate`` — ``rs.events`` + ``rs.alert-actions`` + ``rs.health`` -> per-site state
  (Faust table with a changelog, keyed by site_id) -> ``rs.alerts``; a timer ticks windows,
  silence and escalation.
* ``store`` — ``rs.events``, ``rs.alerts``, ``rs.readings`` -> ClickHouse in batches.
* ``all`` — both in one process (the default; simplest to run).

Run correlate and store as separate roles when ClickHouse outages must not delay alerts:
within one app a blocked sink would hold back the shared consumer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import faust
from faust.sensors.monitor import Monitor

from riskstream.config.schema import Config
from riskstream.kafka_settings import aiokafka_config
from riskstream.streams import metrics
from riskstream.streams.agents.correlator import register_correlator
from riskstream.streams.agents.store import register_store
from riskstream.streams.decode import SharedDecoder

log = logging.getLogger(__name__)
ROLES = ("all", "correlate", "store")


def _broker_credentials(cfg: Config) -> Any:
    conf = aiokafka_config(cfg.kafka, "worker")
    if "sasl_mechanism" in conf:
        return faust.SASLCredentials(
            username=conf["sasl_plain_username"], password=conf["sasl_plain_password"],
            ssl_context=conf.get("ssl_context"), mechanism=conf["sasl_mechanism"],
        )
    if "ssl_context" in conf:
        return faust.SSLCredentials(conf["ssl_context"])
    return None


class LeanMonitor(Monitor):
    """Faust's default monitor keeps per-message statistics for its web UI, which we do not
    run; our own Prometheus metrics count per batch. Skipping its per-message hooks is
    measurably cheaper."""

    def on_message_in(self, *args: Any, **kwargs: Any) -> None:
        return None

    def on_stream_event_in(self, *args: Any, **kwargs: Any) -> None:
        return None

    def on_stream_event_out(self, *args: Any, **kwargs: Any) -> None:
        return None

    def on_message_out(self, *args: Any, **kwargs: Any) -> None:
        return None


def app_id(cfg: Config, role: str) -> str:
    return cfg.worker.app_id if role == "all" else f"{cfg.worker.app_id}-{role}"


def create_app(
    cfg: Config, role: str, datadir: Path, clickhouse: Callable[[], Any] | None = None
) -> faust.App:
    """``clickhouse`` makes ClickHouse clients for the store role."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    session_timeout = cfg.worker.session_timeout_s
    app = faust.App(
        app_id(cfg, role),
        # aiokafka with a 100 ms fetch long-poll instead of Faust's fixed 1.5 s (transport.py)
        broker=f"riskstream://{cfg.kafka.bootstrap}",
        broker_credentials=_broker_credentials(cfg),
        datadir=str(datadir),
        store=cfg.worker.store,
        table_standby_replicas=cfg.worker.standby_replicas,
        key_serializer="raw",
        value_serializer="raw",
        topic_partitions=cfg.kafka.partitions,
        topic_replication_factor=1,
        consumer_auto_offset_reset="earliest",
        # Faust's 60 s defaults make a group join take ~30 s; join in seconds instead.
        broker_session_timeout=session_timeout,
        broker_heartbeat_interval=max(0.5, session_timeout / 10),
        broker_rebalance_timeout=max(session_timeout * 2, 10.0),
        broker_commit_interval=1.0,
        # Larger fetches and buffers: Faust's per-message cost dominates, not Kafka's.
        broker_max_poll_records=5000,
        stream_buffer_maxsize=20000,
        stream_wait_empty=False,
        web_enabled=False,
        autodiscover=False,
        Monitor=LeanMonitor,
    )
    # In one process both roles read every rs.events record: decode each once.
    decoder = SharedDecoder(readers=2 if role == "all" else 1)
    if role == "all":
        metrics.watch_shared_decoder(decoder)
    if role in ("all", "correlate"):
        register_correlator(app, cfg, dlq_decode_errors=(role == "correlate"), decoder=decoder)
    if role in ("all", "store"):
        if clickhouse is None:
            raise ValueError("the store role needs a ClickHouse client")
        register_store(app, cfg, clickhouse, decoder)
    return app
