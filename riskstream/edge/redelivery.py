"""Which MQTT re-deliveries the outbox already holds (pure logic, no I/O).

The edge acknowledges a QoS 1 message only after what it produced is committed, so a crash
between the commit and the PUBACK reaching the broker makes the broker re-send a message the
outbox already holds (same packet id, DUP set: MQTT 3.1.1 section 4.4). Processed again, its
reading would be counted twice in the open windows restored from the outbox, and a detector
would see it twice. Each committed delivery leaves ``mqtt:<slot>`` -> ``<packet id> <digest>
<seq>`` in the outbox state, in the same transaction as its records (``SLOTS`` rows at most:
the packet id modulo ``SLOTS``, distinct for any ``WINDOW`` packet ids in a row); a DUP
delivery whose packet id, topic and payload match one of the last ``WINDOW`` committed
deliveries is acknowledged and not processed again.

Why a window: the broker re-sends only what it still holds unacknowledged, at most its
in-flight limit (our Mosquitto: 1000), and those are the newest committed deliveries (PUBACKs
leave in order). Mosquitto numbers a client's packets in sequence, so no packet id repeats
within the window. A broker that reuses the lowest free id could, after a crash, re-send a
message never committed under the id of one just committed: it is taken for a re-delivery only
if its topic and payload bytes are the same too.
"""

from __future__ import annotations

import hashlib

PREFIX = "mqtt:"
WINDOW = 4096  # committed deliveries remembered: above any broker's in-flight limit we ship
SLOTS = 2 * WINDOW  # state rows: they count against the outbox's disk budget


def digest(topic: str, payload: bytes) -> str:
    h = hashlib.blake2b(digest_size=8)
    h.update(topic.encode("utf-8", "surrogateescape"))
    h.update(b"\0")
    h.update(payload)
    return h.hexdigest()


class Redeliveries:
    """Remembers the newest committed deliveries by packet id; tells re-sent ones apart."""

    def __init__(self, saved: dict[str, str], window: int = WINDOW) -> None:
        self._window = window
        self._seen: dict[int, tuple[str, int]] = {}
        for text in saved.values():
            parsed = _parse(text)
            if parsed is not None:
                self._seen[parsed[0]] = parsed[1:]
        self._seq = max((seq for _, seq in self._seen.values()), default=0)

    def is_redelivery(self, mid: int, dup: bool, topic: str, payload: bytes) -> bool:
        """A re-sent (DUP) delivery of one of the last ``window`` recorded deliveries."""
        if not dup or mid not in self._seen:
            return False
        known, seq = self._seen[mid]
        return self._seq - seq < self._window and known == digest(topic, payload)

    def record(self, mid: int, topic: str, payload: bytes) -> tuple[str, str]:
        """Remember a delivery; returns the state entry to commit with what it produced."""
        self._seq += 1
        entry = (digest(topic, payload), self._seq)
        self._seen[mid] = entry
        return f"{PREFIX}{mid % SLOTS}", f"{mid} {entry[0]} {entry[1]}"


def _parse(text: str) -> tuple[int, str, int] | None:
    try:
        mid, known, seq = text.split(" ")
        return int(mid), known, int(seq)
    except ValueError:  # a state entry written by something else: not ours to trust
        return None
