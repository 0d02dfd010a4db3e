"""De-duplication of re-delivered records, in two parts with different costs (pure logic).

* **Replays** after a worker crash or rebalance (records whose effect is already in the site's
  state but whose offsets were not committed) are recognised exactly by a watermark kept in
  the site state itself: the highest offset applied per topic *partition* (``topic/p``). A
  site's records are applied from its own partition only (records that arrive on another one
  are forwarded there first, see :mod:`riskstream.streams.correlator_core`), in offset order,
  so one integer per topic partition suffices and the check is atomic with the state.
* **Re-sends** (a record delivered but not yet acknowledged when the edge died is sent again,
  at a new offset; an operator action produced twice) need the ids: :class:`RecentIds`
  remembers them for the dedup window. In memory it is one dict per site; for recovery it is
  persisted as small append-only *segments* (the ids one batch added), so a batch writes only
  its new ids and expiry deletes whole segments.

A segment is bounded in bytes (a burst of one site can add tens of thousands of ids in one
batch, and a Kafka record must stay under the producer's ``max.request.size``), so one batch
may seal several. Each segment records the watermark of the batch that made it (``upto``): it
only counts once the site state that applied those records is stored too. A segment whose
``upto`` is ahead of the stored state (the worker died between writing the two) describes
records that were never applied, and is dropped at load: counting its ids as seen would make
the replay of those very records look like re-sends and lose them from correlation.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

SEP = b"\x1f"  # between the site id and the segment number in a segment key
MAX_IDS_PER_SITE = 200_000
MAX_SEGMENT_BYTES = 256 * 1024  # well below Kafka's 1 MB default record limit

Watermark = dict[str, int]  # "topic/partition" -> highest offset applied


def tp_name(topic: str, partition: int) -> str:
    return f"{topic}/{partition}"


def replayed(state: Mapping[str, Any] | None, topic: str, partition: int, offset: int) -> bool:
    """True when the record at ``offset`` of ``topic``/``partition`` is already in ``state``."""
    if not state:
        return False
    applied: int = state.get("applied", {}).get(tp_name(topic, partition), -1)
    return offset <= applied


def mark_applied(state: dict[str, Any], topic: str, partition: int, offset: int) -> dict[str, Any]:
    applied = dict(state.get("applied", {}))
    name = tp_name(topic, partition)
    applied[name] = max(offset, applied.get(name, -1))
    return {**state, "applied": applied}


def covers(applied: Mapping[str, int], upto: Mapping[str, int]) -> bool:
    """True when every offset in ``upto`` is applied in the watermark ``applied``."""
    return all(offset <= applied.get(name, -1) for name, offset in upto.items())


def segment_key(site: str, number: int) -> bytes:
    return site.encode() + SEP + b"%013d" % number


def site_of(key: bytes) -> str:
    return key.rpartition(SEP)[0].decode()


def is_segment_key(key: bytes) -> bool:
    return SEP in key


@dataclass
class _Site:
    ids: dict[str, int] = field(default_factory=dict)  # id -> segment number
    segments: deque[tuple[int, list[str]]] = field(default_factory=deque)  # (number, its ids)
    open: list[str] = field(default_factory=list)  # ids of the current batch, not yet sealed
    last_number: int = -1


class RecentIds:
    """Ids seen per site within ``window_ms`` of arrival (wall time).

    A segment's number is its arrival time in ms (made unique per site), so expiry needs no
    extra field and the in-memory index can be rebuilt from the persisted segments alone.
    """

    def __init__(self, window_ms: int, max_ids_per_site: int = MAX_IDS_PER_SITE,
                 max_segment_bytes: int = MAX_SEGMENT_BYTES) -> None:
        self.window_ms = window_ms
        self.max_ids = max_ids_per_site
        self.max_segment_bytes = max_segment_bytes
        self._sites: dict[str, _Site] = {}
        self._opened_at: dict[str, int] = {}

    def seen(self, site: str, item_id: str) -> bool:
        entry = self._sites.get(site)
        return entry is not None and item_id in entry.ids

    def size(self, site: str) -> int:
        entry = self._sites.get(site)
        return len(entry.ids) if entry else 0

    def remember(self, site: str, item_id: str, now_ms: int) -> None:
        """Add ``item_id`` to the site's open batch (sealed into segments by :meth:`seal`)."""
        entry = self._sites.setdefault(site, _Site())
        self._opened_at.setdefault(site, now_ms)
        entry.open.append(item_id)
        entry.ids[item_id] = -1  # numbered when sealed

    def seal(self, site: str, upto: Mapping[str, int]) -> list[tuple[bytes, bytes]]:
        """Close the site's open batch into segments of at most ``max_segment_bytes`` each,
        stamped with the batch's watermark ``upto``; returns them to persist (key, value)."""
        entry = self._sites.get(site)
        opened = self._opened_at.pop(site, 0)
        if entry is None or not entry.open:
            return []
        out: list[tuple[bytes, bytes]] = []
        for chunk in _chunks(entry.open, self.max_segment_bytes):
            number = max(opened, entry.last_number + 1)
            entry.last_number = number
            for item_id in chunk:
                entry.ids[item_id] = number
            entry.segments.append((number, chunk))
            out.append((segment_key(site, number),
                        orjson.dumps({"ids": chunk, "upto": dict(upto)})))
        entry.open = []
        return out

    def discard_open(self, site: str) -> None:
        """Forget the open batch's ids (the batch was not applied after all)."""
        entry = self._sites.get(site)
        self._opened_at.pop(site, None)
        if entry is None:
            return
        for item_id in entry.open:
            if entry.ids.get(item_id) == -1:
                del entry.ids[item_id]
        entry.open = []

    def expire(self, now_ms: int) -> list[bytes]:
        """Forget segments older than the window (or beyond the cap); their keys to delete."""
        dropped: list[bytes] = []
        for site, entry in list(self._sites.items()):
            while entry.segments and (entry.segments[0][0] < now_ms - self.window_ms
                                      or len(entry.ids) > self.max_ids):
                number, ids = entry.segments.popleft()
                for item_id in ids:
                    if entry.ids.get(item_id) == number:  # a later segment may hold it too
                        del entry.ids[item_id]
                dropped.append(segment_key(site, number))
            if not entry.segments and not entry.open:
                del self._sites[site]
        return dropped

    def load(self, segments: Iterable[tuple[bytes, bytes]],
             applied: Callable[[str], Mapping[str, int]]) -> LoadReport:
        """Rebuild from persisted segments (after a restart or a rebalance). ``applied(site)``
        is the watermark of the site's stored state: a segment ahead of it was never applied
        and is dropped (its key is reported, to delete). A segment that cannot be read is
        skipped (its ids are then not recognised as re-sends) and counted."""
        self._sites.clear()
        self._opened_at.clear()
        report = LoadReport()
        readable: list[tuple[str, int, list[str]]] = []
        for key, value in segments:
            site, sep, number = key.rpartition(SEP)
            try:
                data = orjson.loads(value)
                if not sep or not isinstance(data, dict) or not isinstance(data.get("ids"), list):
                    raise ValueError("not a segment")
                site_id, seq = site.decode(), int(number)
                upto = {str(k): int(v) for k, v in dict(data.get("upto") or {}).items()}
            except (ValueError, TypeError):  # orjson's error and UnicodeDecodeError are ValueErrors
                report.unreadable += 1
                continue
            if not covers(applied(site_id), upto):
                report.ahead.append(key)
                continue
            readable.append((site_id, seq, [str(i) for i in data["ids"]]))
        for site_id, seq, ids in sorted(readable):
            entry = self._sites.setdefault(site_id, _Site())
            for item_id in ids:
                entry.ids[item_id] = seq
            entry.segments.append((seq, ids))
            entry.last_number = max(entry.last_number, seq)
        return report


@dataclass
class LoadReport:
    unreadable: int = 0
    ahead: list[bytes] = field(default_factory=list)  # segments of never-applied batches


def _chunks(ids: list[str], max_bytes: int) -> Iterable[list[str]]:
    """Consecutive runs of ``ids`` whose JSON stays within ``max_bytes`` (with room for the
    watermark); a single id is never split."""
    chunk: list[str] = []
    size = 0
    budget = max(1024, max_bytes - 4096)
    for item_id in ids:
        cost = len(item_id.encode()) + 3  # quotes and comma
        if chunk and size + cost > budget:
            yield chunk
            chunk, size = [], 0
        chunk.append(item_id)
        size += cost
    if chunk:
        yield chunk
