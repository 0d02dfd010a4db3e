"""Dead letters: a record that could not be processed, with the reason, for ``rs.dlq``.

Shared by the edge (bad MQTT payloads) and the stream workers (bad events). The original
bytes travel base64-encoded so that even non-UTF-8 input survives for inspection.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from riskstream.events import format_time, utc_now

MAX_KEPT_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class DeadLetter:
    stage: str  # where it failed: "edge.parse", "worker.decode", ...
    reason: str  # human-readable, names the bad field
    source: str  # MQTT topic or Kafka topic/partition/offset
    payload: bytes
    error_type: str = "invalid"
    site_id: str | None = None
    at: datetime = field(default_factory=utc_now)

    def to_dict(self) -> dict[str, Any]:
        kept = self.payload[:MAX_KEPT_BYTES]
        return {
            "stage": self.stage,
            "reason": self.reason,
            "error_type": self.error_type,
            "source": self.source,
            "site_id": self.site_id,
            "at": format_time(self.at),
            "payload_size": len(self.payload),
            "payload_truncated": len(self.payload) > len(kept),
            "payload_b64": base64.b64encode(kept).decode(),
        }

    def to_json(self) -> bytes:
        return json.dumps(self.to_dict(), separators=(",", ":")).encode()

    @property
    def key(self) -> bytes:
        return (self.site_id or "unknown").encode()
