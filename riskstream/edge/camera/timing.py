"""Pure timing helpers of the capture loop: reconnect backoff and frame sampling."""

from __future__ import annotations


class Backoff:
    """Doubling reconnect delays from ``initial`` up to ``maximum``; ``reset`` after success."""

    def __init__(self, initial: float, maximum: float) -> None:
        if initial <= 0 or maximum < initial:
            raise ValueError("backoff needs 0 < initial <= maximum")
        self.initial, self.maximum = initial, maximum
        self._next = initial

    def next_delay(self) -> float:
        delay = self._next
        self._next = min(self._next * 2.0, self.maximum)
        return delay

    def reset(self) -> None:
        self._next = self.initial


class FrameSampler:
    """Picks frames for analysis at ``fps`` from a stream of any rate, by stream time (seconds).

    A frame is due once ``1 / fps`` has passed since the last picked one; the schedule advances
    by whole periods so the long-run rate is exact and a late frame does not shift the grid.
    """

    def __init__(self, fps: float) -> None:
        if fps <= 0:
            raise ValueError("analysis fps must be positive")
        self.period = 1.0 / fps
        self._due: float | None = None

    def take(self, t: float) -> bool:
        if self._due is None or t < self._due - 10 * self.period:  # first frame, or stream restarted
            self._due = t + self.period
            return True
        if t + 1e-9 < self._due:
            return False
        periods = int((t - self._due) / self.period) + 1
        self._due += periods * self.period
        return True
