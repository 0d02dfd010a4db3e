"""MQTT topic filters (``+`` one level, ``#`` the rest), as the broker applies them (pure)."""

from __future__ import annotations


def valid_filter(pattern: str) -> str | None:
    """None when ``pattern`` is a valid subscription filter, else what is wrong with it."""
    if not pattern:
        return "empty topic filter"
    levels = pattern.split("/")
    for i, level in enumerate(levels):
        if "#" in level and (level != "#" or i != len(levels) - 1):
            return "'#' must be a whole level and the last one"
        if "+" in level and level != "+":
            return "'+' must be a whole level"
    return None


def matches(pattern: str, topic: str) -> bool:
    """Whether ``topic`` (no wildcards) is received by a subscription to ``pattern``."""
    p_levels, t_levels = pattern.split("/"), topic.split("/")
    for i, p in enumerate(p_levels):
        if p == "#":
            return True
        if i >= len(t_levels) or (p != "+" and p != t_levels[i]):
            return False
    return len(p_levels) == len(t_levels)
