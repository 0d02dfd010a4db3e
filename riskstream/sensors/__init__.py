"""Sensor side: payload parsing, static thresholds, and the per-reading pipeline (pure)."""
