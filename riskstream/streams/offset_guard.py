"""Never let a partition's records be skipped: the rule the worker consumer applies per record.

Faust delivers a fetched record when its offset is not below the partition's read offset and
then moves the read offset to it. After a seek back to the committed offset (a rebalance), a
record of a fetch made at the old position could still arrive first: Faust delivered it, the
read offset jumped past the records between, and those, fetched again, were dropped as
"already read" until a restart. The guard decides per record, knowing where each partition
should continue:

- ``DELIVER`` the record continues the partition (or repeats one: Faust drops repeats itself);
- ``REWIND`` it jumps ahead: seek back to the expected offset, drop it;
- ``SKIP`` a later record of a partition rewound in this batch (stale as well);
- ``GONE`` it jumps ahead again although the partition was rewound twice to the same offset:
  Kafka no longer holds those records (retention); deliver, and let commits pass the hole.

Pure logic, no I/O: the consumer (``transport._Consumer``) reports seeks and asks per record.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from enum import Enum

REWINDS_BEFORE_GONE = 2  # a jump that survives two seeks back is a real hole in the log


class Decision(Enum):
    DELIVER = "deliver"
    REWIND = "rewind"
    SKIP = "skip"
    GONE = "gone"


@dataclass
class OffsetGuard:
    _expected: dict[Hashable, int] = field(default_factory=dict)
    _rewinds: dict[Hashable, tuple[int, int]] = field(default_factory=dict)  # tp: (offset, n)
    _skipping: set[Hashable] = field(default_factory=set)
    _holes: dict[Hashable, tuple[int, int]] = field(default_factory=dict)  # tp: [begin, end)

    def seeked(self, tp: Hashable, offset: int | None) -> None:
        """The consumer's position of ``tp`` is now ``offset`` (None: not known)."""
        if offset is None or offset < 0:
            self._expected.pop(tp, None)
        else:
            self._expected[tp] = offset

    def seeked_all(self, offsets: Iterable[tuple[Hashable, int | None]]) -> None:
        for tp, offset in offsets:
            self.seeked(tp, offset)

    def new_batch(self) -> None:
        """A new fetch: records of rewound partitions come from their new position now."""
        self._skipping.clear()

    def expected(self, tp: Hashable) -> int | None:
        return self._expected.get(tp)

    def decide(self, tp: Hashable, offset: int) -> Decision:
        if tp in self._skipping:
            return Decision.SKIP
        expected = self._expected.get(tp)
        if expected is None or offset <= expected:
            self._delivered(tp, offset)
            return Decision.DELIVER
        rewound_to, times = self._rewinds.get(tp, (None, 0))
        if rewound_to == expected and times >= REWINDS_BEFORE_GONE:
            self._holes[tp] = (expected, offset)
            self._delivered(tp, offset)
            return Decision.GONE
        self._rewinds[tp] = (expected, times + 1 if rewound_to == expected else 1)
        self._skipping.add(tp)
        return Decision.REWIND

    def seek_failed(self, tp: Hashable) -> None:
        """A seek back did not happen: the next jump is not evidence of a hole (never GONE on
        failed seeks; the partition keeps being rewound, or its next assignment seeks)."""
        self._rewinds.pop(tp, None)

    def hole_covers(self, tp: Hashable, begin: int, end: int) -> bool:
        """Whether the offsets ``begin`` up to ``end`` (excluded) are a hole Kafka confirmed."""
        hole = self._holes.get(tp)
        return hole is not None and hole[0] <= begin and end <= hole[1]

    def _delivered(self, tp: Hashable, offset: int) -> None:
        expected = self._expected.get(tp)
        self._expected[tp] = offset + 1 if expected is None else max(expected, offset + 1)
        if expected is not None and offset >= expected:
            self._rewinds.pop(tp, None)
