"""Training recipes for the shipped artifacts (``riskstream models train NAME --data PATH``).

Each recipe reads normal data only, trains on a 2-core CPU in seconds and writes
``<out>/<name>/<version>/model.onnx`` + ``card.json``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from riskstream.models.card import ModelCard, load_card

VERSION = "2"  # scene models of a camera's own clips (v2: the speed model; v1: frame differences)
# scene-ped2 v3: the speed model (optical flow against each row's normal speed), chosen by
# cross-validation on the training clips (v2: per-cell frame differences over all 16 clips;
# v1: the same over clips 01-06).
SCENE_PED2_VERSION = "3"
# A recipe whose model changes gets a new version: events name the model that raised them.
# Sensor window models v2: five cross-fitted networks calibrated on out-of-fold errors (v1: one
# network, threshold from 20 % held-out rows).
SENSOR_VERSION = "2"


def _window_recipe(rows: Any, features: list[str], out: Path, name: str, version: str,
                   window: int, min_consecutive: int, data: str) -> ModelCard:
    from riskstream.models.window_model import train_window_model

    return train_window_model(
        rows, features, out, name=name, version=version, window=window,
        min_consecutive=min_consecutive,
        training={"data": data, "command": f"riskstream models train {name} --data PATH"},
    )


def sensor_skab(data: Path | None, out: Path, version: str) -> ModelCard:
    from riskstream.evaluation import skab
    from riskstream.evaluation.datapath import dataset_dir

    path = dataset_dir("skab", data) / "data" / "anomaly-free" / "anomaly-free.csv"
    rows, _ = skab.read_experiment(path)
    return _window_recipe(rows, skab.FEATURES, out, "sensor-skab", version, skab.WINDOW, 5,
                          "SKAB anomaly-free/anomaly-free.csv (pump loop, normal operation)")


def sensor_tep(data: Path | None, out: Path, version: str) -> ModelCard:
    from riskstream.evaluation import tep
    from riskstream.evaluation.datapath import dataset_dir

    rows = tep.read(dataset_dir("tep", data) / "d00.dat")
    return _window_recipe(rows, tep.FEATURES, out, "sensor-tep", version, tep.WINDOW, 3,
                          "Tennessee Eastman d00.dat (normal operation, 500 rows)")


def scene_ped2(data: Path | None, out: Path, version: str) -> ModelCard:
    from riskstream.evaluation import ped2
    from riskstream.evaluation.datapath import dataset_dir

    ped2.train(dataset_dir("video/ucsd_ped2", data), out, version=version)
    return load_card(out)


# name -> (version it writes, recipe(data, out_dir, version))
RECIPES: dict[str, tuple[str, Callable[[Path | None, Path, str], ModelCard]]] = {
    "sensor-skab": (SENSOR_VERSION, sensor_skab),
    "sensor-tep": (SENSOR_VERSION, sensor_tep),
    "scene-ped2": (SCENE_PED2_VERSION, scene_ped2),
}


def sampled_frames(path: Path, fps: float) -> Iterator[Any]:
    """Frames of a normal clip (a video file, or a folder of JPEGs taken at ``fps``) at the
    camera's analysis rate: motion statistics depend on the time between analysed frames."""
    from riskstream.edge.camera.timing import FrameSampler
    from riskstream.evaluation.video_io import jpeg_folder, video_frames

    if path.is_dir():
        yield from jpeg_folder(path)
        return
    source_fps, frames = video_frames(path)
    sampler = FrameSampler(fps)
    for i, frame in enumerate(frames):
        if sampler.take(i / source_fps):
            yield frame


def scene_from_clips(clips: list[Path], name: str, fps: float, models_root: Path) -> ModelCard:
    """A scene-anomaly model for one camera, from clips of its normal footage: the speed model
    with the settings the Ped2 cross-validation chose (per-row normal speeds at ``fps``)."""
    from riskstream.models.video.speed import SpeedSettings, train_speed_model

    missing = [str(c) for c in clips if not c.exists()]
    if not clips or missing:
        raise KeyError(f"scene recipe needs --clip files or folders of normal footage; missing: {missing}")
    return train_speed_model(
        (sampled_frames(c, fps) for c in clips),
        models_root / name / VERSION,
        name=name,
        version=VERSION,
        fps=fps,
        settings=SpeedSettings(),
        training={
            "data": [str(c) for c in clips],
            "analysis_fps": fps,
            "command": f"riskstream models train scene --model-name {name} --fps {fps:g} "
            + " ".join(f"--clip {c}" for c in clips),
        },
    )


def train(name: str, data: Path | None, models_root: Path) -> ModelCard:
    if name not in RECIPES:
        raise KeyError(f"unknown recipe {name!r}; known: {', '.join(sorted(RECIPES))}")
    version, recipe = RECIPES[name]
    return recipe(data, models_root / name / version, version)
