"""Detectors: the scoring contract, thresholding, rule-based and learned detectors, ONNX artifacts.

``score(x) -> float`` in [0, 1] (higher = more anomalous) is the whole contract; deciding what
counts as a detection is :mod:`riskstream.models.thresholding`'s job, so a detector can be
re-thresholded per deployment without retraining; artifacts are described in ``card.py``.
"""
