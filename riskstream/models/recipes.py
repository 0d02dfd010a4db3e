"""Training recipes for the shipped artifacts (``riskstream models train NAME --data PATH``).

Each recipe reads normal data only, trains on a 2-core CPU in seconds and writes
``<out>/<name>/<version>/model.onnx`` + ``card.json``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from riskstream.models.card import ModelCard, load_card

VERSION = "1"


def sensor_skab(data: Path | None, out: Path) -> ModelCard:
    from riskstream.evaluation import skab
    from riskstream.evaluation.datapath import dataset_dir
    from riskstream.models.window_model import train_window_model

    path = dataset_dir("skab", data) / "data" / "anomaly-free" / "anomaly-free.csv"
    rows, _ = skab.read_experiment(path)
    return train_window_model(
        rows,
        skab.FEATURES,
        out,
        name="sensor-skab",
        version=VERSION,
        window=skab.WINDOW,
        min_consecutive=5,
        training={
            "data": "SKAB anomaly-free/anomaly-free.csv (pump loop, normal operation)",
            "command": "riskstream models train sensor-skab --data PATH",
        },
    )


def sensor_tep(data: Path | None, out: Path) -> ModelCard:
    from riskstream.evaluation import tep
    from riskstream.evaluation.datapath import dataset_dir
    from riskstream.models.window_model import train_window_model

    rows = tep.read(dataset_dir("tep", data) / "d00.dat")
    return train_window_model(
        rows,
        tep.FEATURES,
        out,
        name="sensor-tep",
        version=VERSION,
        window=tep.WINDOW,
        min_consecutive=3,
        training={
            "data": "Tennessee Eastman d00.dat (normal operation, 500 rows)",
            "command": "riskstream models train sensor-tep --data PATH",
        },
    )


def scene_ped2(data: Path | None, out: Path) -> ModelCard:
    from riskstream.evaluation import ped2
    from riskstream.evaluation.datapath import dataset_dir

    ped2.train(dataset_dir("video/ucsd_ped2", data), out, version=VERSION)
    return load_card(out)


RECIPES: dict[str, Callable[[Path | None, Path], ModelCard]] = {
    "sensor-skab": sensor_skab,
    "sensor-tep": sensor_tep,
    "scene-ped2": scene_ped2,
}


def train(name: str, data: Path | None, models_root: Path) -> ModelCard:
    if name not in RECIPES:
        raise KeyError(f"unknown recipe {name!r}; known: {', '.join(sorted(RECIPES))}")
    return RECIPES[name](data, models_root / name / VERSION)
