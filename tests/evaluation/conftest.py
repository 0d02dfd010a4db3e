"""Tests on the shared labelled data: they skip, saying why, where it is not on the machine."""

from __future__ import annotations

from pathlib import Path

import pytest

from riskstream.evaluation.datapath import DataMissing, dataset_dir


def need(name: str) -> Path:
    try:
        return dataset_dir(name)
    except DataMissing as exc:
        pytest.skip(f"needs the shared evaluation data: {exc}")
