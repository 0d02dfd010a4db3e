"""Stall watchdog: Faust consumers can silently stop after a rebalance (its issue tracker has
several such reports, and we saw it here: a worker assigned partitions with records waiting
processed nothing). The watchdog compares, outside Faust, the group's committed offsets of the
partitions this worker owns with their end offsets; when records wait, nothing is committed
and no agent did any work for ``stall_after_s``, the worker exits with :data:`STALL_EXIT_CODE` and its
supervisor (``riskstream worker``) starts a fresh one, which recovers state from the changelog.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from riskstream.config.schema import KafkaSettings
from riskstream.kafka_offsets import GroupOffsets, Partition

log = logging.getLogger(__name__)
STALL_EXIT_CODE = 75  # EX_TEMPFAIL: try again
_activity = [0.0]


def mark_activity() -> None:
    """A sink calls this on every retry (a worker knowingly waiting for ClickHouse is not
    stalled, though it commits nothing meanwhile), and the correlator while it works through
    a long batch (a backlog's batch of 1,000 records can hold 20,000 events: seen taking
    18 s on a loaded 2-core box, twice in a row, which a 30 s watchdog took for a stall).
    The price: a stall of another agent's partitions in the same process is only seen once
    the correlator goes idle."""
    _activity[0] = time.monotonic()


class StallWatchdog(threading.Thread):
    def __init__(
        self, settings: KafkaSettings, group_id: str, assigned: Callable[[], set[Partition]],
        stall_after_s: float, on_stall: Callable[[str], None], interval_s: float = 2.0,
    ) -> None:
        super().__init__(daemon=True, name="stall-watchdog")
        self._settings = settings
        self._group = group_id
        self._assigned = assigned
        self._stall_after = stall_after_s
        self._on_stall = on_stall
        self._interval = interval_s
        self._halt = threading.Event()

    def stop(self) -> None:
        self._halt.set()

    def run(self) -> None:
        probe = GroupOffsets(self._settings, self._group)
        last_committed: dict[Partition, int] = {}
        waiting_since: dict[Partition, float] = {}
        try:
            while not self._halt.wait(self._interval):
                owned = sorted(self._assigned())
                if not owned:
                    waiting_since.clear()
                    continue
                try:
                    committed = probe.committed(owned, timeout=5)
                    ends = probe.ends(owned, timeout=5)
                except Exception as exc:  # the broker may be away: not our stall to judge
                    log.debug("watchdog probe failed: %s", exc)
                    continue
                now = time.monotonic()
                for key, done in committed.items():
                    if ends[key] <= done or last_committed.get(key) != done:
                        waiting_since.pop(key, None)  # caught up, or progressing
                    else:
                        waiting_since.setdefault(key, now)
                    last_committed[key] = done
                idle = now - _activity[0] >= self._stall_after
                stalled = [k for k, since in waiting_since.items()
                           if idle and now - since >= self._stall_after and k in set(owned)]
                if stalled:
                    self._on_stall(f"no progress for {self._stall_after:.0f} s on {stalled} "
                                   "although records are waiting")
                    return
        finally:
            probe.close()
