"""De-duplication of re-delivered events, in two parts with different costs (pure logic).

* **Replays** after a worker crash or rebalance (records whose effect is already in the site's
  state but whose offsets were not committed) are recognised exactly by a watermark kept in
  the site state itself: the highest offset applied per topic. A site's records all come from
  one partition, in offset order, so one integer per topic suffices and the check is atomic
  with the state it protects.
* **Re-sends** by the edge (a record delivered but not yet acknowledged when the edge died is
  sent again, at a new offset) need the event ids: :class:`RecentIds` remembers them for the
  dedup window. In memory it is one dict per site; for recovery it is persisted as small
  append-only *segments* (the ids one batch added), so a batch writes only its new ids and
  expiry deletes whole segments. Keeping the whole id set inside the site state, as the first
  version did, rewrote and re-read the full set (tens of thousands of ids for a busy site) on
  every batch: the cost and the changelog grew with the window, and latency with it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson

SEP = b"\x1f"  # between the site id and the segment number in a segment key
MAX_IDS_PER_SITE = 200_000


def replayed(state: dict[str, Any] | None, topic: str, offset: int) -> bool:
    """True when the record at ``offset`` of ``topic`` was already applied to ``state``."""
    if not state:
        return False
    applied: int = state.get("applied", {}).get(topic, -1)
    return offset <= applied


def mark_applied(state: dict[str, Any], topic: str, offset: int) -> dict[str, Any]:
    applied = dict(state.get("applied", {}))
    applied[topic] = max(offset, applied.get(topic, -1))
    return {**state, "applied": applied}


def segment_key(site: str, number: int) -> bytes:
    return site.encode() + SEP + b"%013d" % number


def site_of(key: bytes) -> str:
    return key.rpartition(SEP)[0].decode()


@dataclass
class _Site:
    ids: dict[str, int] = field(default_factory=dict)  # event id -> segment number
    segments: deque[tuple[int, list[str]]] = field(default_factory=deque)  # (number, its ids)
    open: tuple[int, list[str]] | None = None  # being filled by the current batch


class RecentIds:
    """Event ids seen per site within ``window_ms`` of arrival (wall time).

    A segment's number is its arrival time in ms (made unique per site), so expiry needs no
    extra field and the in-memory index can be rebuilt from the persisted segments alone.
    """

    def __init__(self, window_ms: int, max_ids_per_site: int = MAX_IDS_PER_SITE) -> None:
        self.window_ms = window_ms
        self.max_ids = max_ids_per_site
        self._sites: dict[str, _Site] = {}

    def seen(self, site: str, event_id: str) -> bool:
        entry = self._sites.get(site)
        return entry is not None and event_id in entry.ids

    def size(self, site: str) -> int:
        entry = self._sites.get(site)
        return len(entry.ids) if entry else 0

    def remember(self, site: str, event_id: str, now_ms: int) -> None:
        """Add ``event_id`` to the site's open segment (opened at ``now_ms`` if none is)."""
        entry = self._sites.setdefault(site, _Site())
        if entry.open is None:
            last = entry.segments[-1][0] if entry.segments else now_ms - 1
            entry.open = (max(now_ms, last + 1), [])
        entry.open[1].append(event_id)
        entry.ids[event_id] = entry.open[0]

    def seal(self, site: str) -> tuple[bytes, bytes] | None:
        """Close the site's open segment; returns it to persist (key, value), None if none."""
        entry = self._sites.get(site)
        if entry is None or entry.open is None:
            return None
        number, ids = entry.open
        entry.segments.append(entry.open)
        entry.open = None
        return segment_key(site, number), orjson.dumps(ids)

    def expire(self, now_ms: int) -> list[bytes]:
        """Forget segments older than the window (or beyond the cap); their keys to delete."""
        dropped: list[bytes] = []
        for site, entry in list(self._sites.items()):
            while entry.segments and (entry.segments[0][0] < now_ms - self.window_ms
                                      or len(entry.ids) > self.max_ids):
                number, ids = entry.segments.popleft()
                for event_id in ids:
                    if entry.ids.get(event_id) == number:  # a later segment may hold it too
                        del entry.ids[event_id]
                dropped.append(segment_key(site, number))
            if not entry.segments and entry.open is None:
                del self._sites[site]
        return dropped

    def load(self, segments: Iterable[tuple[bytes, bytes]]) -> int:
        """Rebuild from persisted segments (after a restart or a rebalance). A segment that
        cannot be read is skipped (its ids are then not recognised as re-sends); returns how
        many were skipped, so the caller can say so."""
        self._sites.clear()
        readable, skipped = [], 0
        for key, value in segments:
            site, sep, number = key.rpartition(SEP)
            try:
                ids = orjson.loads(value)
                if not sep or not isinstance(ids, list):
                    raise ValueError("not a segment")
                readable.append((site.decode(), int(number), [str(i) for i in ids]))
            except ValueError:  # orjson's error and UnicodeDecodeError are ValueErrors too
                skipped += 1
        for site_id, seg, ids in sorted(readable):
            entry = self._sites.setdefault(site_id, _Site())
            for event_id in ids:
                entry.ids[event_id] = seg
            entry.segments.append((seg, ids))
        return skipped
