"""Logging set-up shared by every riskstream process: one line per record, key=value style.

Repeats are collapsed: the same message (same logger, level and format string) is written at
most :data:`BURST` times per :data:`WINDOW_S` seconds, and the next one that gets through says
how many were suppressed. An outage otherwise floods the log: a 36 s Kafka outage once wrote
269,384 client ERROR lines (28 MB) to one worker's log.
"""

from __future__ import annotations

import logging
import sys
import time
from collections import OrderedDict
from collections.abc import Callable

WINDOW_S = 10.0
BURST = 5
MAX_KEYS = 2000


class RepeatFilter(logging.Filter):
    """Lets a message through at most ``burst`` times per ``window_s``; counts the rest."""

    def __init__(self, window_s: float = WINDOW_S, burst: int = BURST,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.window_s, self.burst, self._clock = window_s, burst, clock
        # key -> [window start, passed in window, suppressed since the last one passed]
        self._seen: OrderedDict[tuple[str, int, str], list[float]] = OrderedDict()
        self.suppressed_total = 0

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.name, record.levelno, str(record.msg))
        now = self._clock()
        entry = self._seen.pop(key, None)
        if entry is None or now - entry[0] >= self.window_s:
            entry = [now, 0, entry[2] if entry else 0]
        self._seen[key] = entry
        if len(self._seen) > MAX_KEYS:
            self._seen.popitem(last=False)
        if entry[1] >= self.burst:
            entry[2] += 1
            self.suppressed_total += 1
            return False
        entry[1] += 1
        if entry[2]:
            record.msg = f"{record.msg} [{int(entry[2])} similar lines suppressed]"
            entry[2] = 0
        return True


def setup_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RepeatFilter())
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.INFO),
        handlers=[handler],
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%Y-%m-%dT%H:%M:%S",
        force=True,
    )
