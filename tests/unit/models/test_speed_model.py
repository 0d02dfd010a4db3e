"""The speed scene model on generated footage: people walking slowly on a textured ground, and a
fast one. The graph computes what the numpy reference computes, the flow measures speed, the
perspective line is fitted, and the detector from its card ranks a fast walker above walkers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from riskstream.models.base import DetectorInputError
from riskstream.models.card import load_card
from riskstream.models.onnx_model import OnnxModel
from riskstream.models.video import speed
from riskstream.models.video.scene import SceneAnomalyDetector

from .synthetic import textured_scene

H, W = 240, 360


def walkers(n: int, seed: int, fast: float | None = None) -> list[np.ndarray]:
    """Frames of dark people (8 x 22 px) walking at 0.8 px per frame along four rows; with
    ``fast``, one more person on row 150 at that speed."""
    rng = np.random.default_rng(seed)
    scene = textured_scene(H, W, seed=1)[..., 0]
    starts = rng.uniform(20, 200, 4)  # no one leaves the frame within 80 frames
    rows = [60, 100, 150, 190]
    frames = []
    for t in range(n):
        img = scene.copy()
        for x0, y in zip(starts, rows, strict=True):
            x = int(x0 + 0.8 * t)
            img[y:y + 22, x:x + 8] = 25
        if fast is not None:
            x = int(10 + fast * t)
            if x + 8 < W:
                img[150:172, x:x + 8] = 230
        frames.append(np.clip(img.astype(int) + rng.integers(-2, 3, img.shape), 0, 255).astype(np.uint8))
    return frames


def test_the_graph_computes_the_reference_arithmetic(tmp_path: Path) -> None:
    s = speed.SpeedSettings(cell=6, top_k=3)
    card = speed.train_speed_model([walkers(60, 0)], tmp_path, name="t", version="1", fps=10, settings=s)
    model = OnnxModel(tmp_path)
    reference = np.array(card.training["row_reference_px_per_frame"], np.float32)
    rng = np.random.default_rng(3)
    mag = (rng.random((s.height, s.width)) * 2).astype(np.float32)
    mag[rng.random(mag.shape) < 0.6] = 0.0
    expected = speed.scores(speed.cell_speeds(mag, s)[None], reference, s.top_k)[0]
    assert float(model.run(mag[None, None])[0]) == pytest.approx(float(expected), rel=1e-3, abs=1e-3)


def test_flow_measures_a_moving_person_s_speed() -> None:
    field = speed.FlowField(120, 180, "ultrafast", 1)
    frames = walkers(12, 0, fast=4.0)  # 4 px/frame at 360 px = 2 px/frame at 180 px
    mags = [m for m in map(field.magnitude, frames) if m is not None]
    s = speed.SpeedSettings(cell=6)
    fast_row = [speed.cell_speeds(m, s)[150 // 2 // 6].max() for m in mags[3:]]
    slow_rows = [speed.cell_speeds(m, s)[100 // 2 // 6].max() for m in mags[3:]]
    assert 1.2 < float(np.median(fast_row)) < 3.0
    assert float(np.median(slow_rows)) < 0.8


def test_the_row_reference_is_a_line_with_a_floor() -> None:
    rows, cols = 10, 8
    speeds = np.zeros((200, rows, cols), np.float32)
    rng = np.random.default_rng(0)
    for r in range(3, 8):  # movement only on rows 3-7, faster lower down (nearer the camera)
        speeds[:, r, :] = rng.uniform(0.5, 1.0, (200, cols)) * (1 + 0.2 * r)
    line = speed.row_reference(speeds, 0.99)
    assert np.all(np.diff(line) >= 0) and line[0] > 0  # extrapolated upwards, never below the floor
    with pytest.raises(DetectorInputError, match="too little movement"):
        speed.row_reference(np.zeros((50, rows, cols), np.float32), 0.99)


def test_the_detector_ranks_a_fast_walker_above_walkers(tmp_path: Path) -> None:
    speed.train_speed_model([walkers(80, s) for s in range(3)], tmp_path, name="t", version="1",
                            fps=10, settings=speed.SpeedSettings(cell=6, top_k=3))
    card = load_card(tmp_path)
    assert card.preprocessing.kind == "flow_magnitude" and card.preprocessing.fps == 10
    model = OnnxModel(tmp_path)
    calm = SceneAnomalyDetector(model, fps=10)
    normal = [calm.score(f) for f in walkers(40, 9)][5:]
    det = SceneAnomalyDetector(model, fps=10)
    anomalous = [det.score(f) for f in walkers(40, 9, fast=4.0)][8:40]
    assert max(normal) < 0.5 < float(np.median(anomalous))


def test_another_analysis_rate_is_scaled_to_the_card_s(tmp_path: Path) -> None:
    """At 5 fps the same walkers move twice as far per analysed frame: scaled back, they are
    as normal as at the card's 10 fps."""
    speed.train_speed_model([walkers(80, s) for s in range(3)], tmp_path, name="t", version="1",
                            fps=10, settings=speed.SpeedSettings(cell=6, top_k=3))
    model = OnnxModel(tmp_path)
    every_other = walkers(80, 9)[::2]
    scaled = SceneAnomalyDetector(model, fps=5)
    unscaled = SceneAnomalyDetector(model, fps=10)  # as if the card's rate
    a = [scaled.score(f) for f in every_other][5:]
    b = [unscaled.score(f) for f in every_other][5:]
    assert max(a) < 0.5 and float(np.median(b)) > float(np.median(a))


def test_a_flow_card_without_a_known_flow_is_refused_at_load(tmp_path: Path) -> None:
    """The runtime reads how to compute the flow from the card: a card naming no flow, or one
    OpenCV has not, is refused when it is loaded, not at the first frame."""
    import json

    from riskstream.models.card import CardError

    speed.train_speed_model([walkers(40, 0)], tmp_path, name="t", version="1", fps=10)
    card = json.loads((tmp_path / "card.json").read_text())
    for preset in ("", "turbo"):
        card["preprocessing"]["flow_preset"] = preset
        (tmp_path / "card.json").write_text(json.dumps(card))
        with pytest.raises(CardError, match="flow_preset"):
            load_card(tmp_path)
