"""JSON Schemas (draft 2020-12) of the messages on riskstream's Kafka topics, one per topic.

Each names the topic it describes (``x-topic``); records are UTF-8 JSON keyed by ``site_id``.
Times are written as ISO-8601 UTC with milliseconds (``2026-11-29T10:00:00.000Z``); producers
may also send an explicit offset (``+08:00``), which consumers convert to UTC.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

# topic role (KafkaSettings.topics field) -> schema file
BY_TOPIC = {
    "events": "rs.events.json", "alerts": "rs.alerts.json", "alert_actions": "rs.alert-actions.json",
    "readings": "rs.readings.json", "health": "rs.health.json", "dlq": "rs.dlq.json",
    "evidence": "rs.evidence.json",
}


def load(name: str) -> dict[str, Any]:
    """The schema in file ``name`` (e.g. ``"rs.events.json"``)."""
    text = resources.files(__package__).joinpath(name).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema
