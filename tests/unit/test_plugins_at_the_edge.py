"""Every detector plugin a deployment may configure runs from its YAML at its place on the edge
(a sensor's chain, a camera's analyser, an asset) and raises the event its plugin names, on
generated input made to trip it. A new plugin without a case here fails the last test."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from riskstream.config import parse
from riskstream.config.schema import Camera
from riskstream.detectors import PLUGINS
from riskstream.edge.camera.analyzer import CameraAnalyzer
from riskstream.edge.camera.frame_queue import Frame
from riskstream.sensors.pipeline import SensorPipeline
from tests.unit.models.synthetic import falling_person, noisy, textured_scene, with_box
from tests.unit.models.test_speed_model import walkers

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
WALL = 1_796_000_000.0
SENSOR = """sites:
  - {{id: plant-a, name: A, district: d1, kind: chemical_plant, risk_points: [{{id: p, name: P}}]}}
sensors:
  - {{id: s-1, site: plant-a, point: p, metric: pressure, unit: kPa, topic: t/s-1,
     detectors: [{detector}]}}
"""


def sensor_kinds(detector: str, values: list[float], silent_for_s: float = 0.0) -> set[str]:
    pipe = SensorPipeline(parse(SENSOR.format(detector=detector)))
    kinds = set()
    for i, v in enumerate(values):
        ts = NOW + timedelta(seconds=i)
        out = pipe.process("t/s-1", json.dumps({"value": v, "ts": int(ts.timestamp() * 1000)}).encode(), ts)
        assert out.dead_letter is None
        kinds |= {e.kind for e in out.events}
    if silent_for_s:
        kinds |= {e.kind for e in pipe.silence_events(NOW + timedelta(seconds=len(values) + silent_for_s))}
    return kinds


def camera_kinds(detector: dict[str, object], frames: list[np.ndarray], fps: float,
                 models_root: Path | None = None, zones: list[dict[str, object]] | None = None) -> set[str]:
    cam = Camera.model_validate({"id": "cam-1", "site": "s", "url": "x", "fps": fps,
                                 "zones": zones or [], "detectors": [detector]})
    analyzer = CameraAnalyzer(cam, "d", None, update_s=5.0, end_s=1.0, models_root=models_root)
    events = []
    for i, image in enumerate(frames):
        events += analyzer.analyse(Frame(image, i / fps, WALL + i / fps))
    return {e.kind for e in events}


def sine(n: int) -> list[float]:
    return [100 + 2 * math.sin(i / 3) for i in range(n)]


def rate() -> set[str]:
    return sensor_kinds("{type: rate, max_per_s: 5}", [100.0] * 20 + [160.0, 100.0])


def stuck() -> set[str]:
    return sensor_kinds("{type: stuck, window_s: 30, min_change: 0.01}", sine(40) + [100.0] * 60)


def silence() -> set[str]:
    return sensor_kinds("{type: silence, timeout_s: 60}", [100.0] * 5, silent_for_s=120)


def knn_likelihood(options: str = "") -> set[str]:
    erratic = [100 + 15 * math.sin(2.5 * i) for i in range(20)]
    return sensor_kinds(f"{{type: knn_likelihood{options}}}", sine(400) + erratic)


def window_model() -> set[str]:
    from tests.unit.test_assets import STD, T0, feed, normal_rows, yaml_text

    pipe = SensorPipeline(parse(yaml_text()))
    fault = normal_rows(30, seed=1)
    fault[:, 0] += 10 * STD[0]
    return {e.kind for e in feed(pipe, normal_rows(60)) + feed(pipe, fault, T0 + 60)}


def zone_motion() -> set[str]:
    rng = np.random.default_rng(0)
    scene = textured_scene()
    frames = [noisy(scene, rng) for _ in range(30)]
    frames += [noisy(with_box(scene, 40 + 6 * i, 80, 30, 60), rng) for i in range(30)]
    zone = {"name": "yard", "polygon": [[0, 0], [1, 0], [1, 1], [0, 1]]}
    return camera_kinds({"type": "zone_motion"}, frames, 10, zones=[zone])


def tamper() -> set[str]:
    rng = np.random.default_rng(0)
    scene = textured_scene()
    frames = [noisy(scene, rng) for _ in range(40)] + [np.full_like(scene, 5) for _ in range(15)]
    return camera_kinds({"type": "tamper"}, frames, 5)


def scene_model(tmp_path: Path) -> set[str]:
    from riskstream.models.video import speed

    speed.train_speed_model([walkers(80, s) for s in range(3)], tmp_path / "scene-gen" / "1",
                            name="scene-gen", version="1", fps=10)
    return camera_kinds({"type": "scene_model", "model": "scene-gen@1"}, walkers(60, 9, fast=4.0), 10,
                        models_root=tmp_path)


def fall() -> set[str]:
    return camera_kinds({"type": "fall"}, falling_person()[0], 10)


CASES: dict[str, Callable[..., set[str]]] = {
    "rate": rate, "stuck": stuck, "silence": silence, "knn_likelihood": knn_likelihood,
    "window_model": window_model, "zone_motion": zone_motion, "tamper": tamper,
    "scene_model": scene_model, "fall": fall,
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_plugin_runs_from_its_config_at_its_place(name: str, tmp_path: Path) -> None:
    case = CASES[name]
    kinds = case(tmp_path) if name == "scene_model" else case()
    assert PLUGINS[name].event in kinds


@pytest.mark.parametrize("ranks", ["independent", "conditional", "overlapping"])
@pytest.mark.parametrize("beyond_range", ["0.25", "null"])
def test_the_knn_variants_run_from_their_config_at_the_edge(ranks: str, beyond_range: str) -> None:
    """The erratic stretch leaves the sine's range far behind, so the range check fires on it
    alone; without the check (``beyond_range: null``) each variant's likelihoods must."""
    options = f", ranks: {ranks}, beyond_range: {beyond_range}"
    assert PLUGINS["knn_likelihood"].event in knn_likelihood(options)


def test_every_configurable_plugin_has_a_case() -> None:
    assert set(CASES) == {name for name, p in PLUGINS.items() if p.places}
