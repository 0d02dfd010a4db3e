"""Login rate limiting (pure; the clock is passed in): at most ``attempts`` failures per key
(a user name, a client address) within ``window_s``; while over it, logins are refused without
checking the password, so guessing costs the attacker time and the server nothing."""

from __future__ import annotations

from collections import defaultdict, deque


class LoginThrottle:
    def __init__(self, attempts: int, window_s: float) -> None:
        self.attempts, self.window_s = attempts, window_s
        self._failures: dict[str, deque[float]] = defaultdict(deque)

    def _recent(self, key: str, now: float) -> deque[float]:
        q = self._failures[key]
        while q and q[0] <= now - self.window_s:
            q.popleft()
        return q

    def blocked(self, keys: list[str], now: float) -> float:
        """Seconds until a login for ``keys`` may be tried again (0: now)."""
        wait = 0.0
        for key in keys:
            q = self._recent(key, now)
            if len(q) >= self.attempts:
                wait = max(wait, q[0] + self.window_s - now)
        return wait

    def failed(self, keys: list[str], now: float) -> None:
        for key in keys:
            self._recent(key, now).append(now)

    def succeeded(self, user_key: str) -> None:
        """A good password clears its user's count, never an address's (one's own account
        must not reset the count of an address guessing others')."""
        self._failures.pop(user_key, None)
