"""ONNX artifacts and their cards: the graph computes what the numpy reference computes, and
every mismatch between file, card and graph is refused at load with a clear message."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from riskstream.models import autoencoder
from riskstream.models.artifacts import resolve_model
from riskstream.models.base import DetectorInputError
from riskstream.models.card import CardError, file_sha256, load_card
from riskstream.models.onnx_model import OnnxModel
from riskstream.models.video.scene import SceneAnomalyDetector, cell_motion, train_scene_model
from riskstream.models.window_model import (
    WindowModelDetector,
    cross_fit,
    fold_bounds,
    train_window_model,
    windows_outside,
)
from riskstream.models.windows import sliding

from .synthetic import noisy, textured_scene, with_box


@pytest.fixture
def window_model(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    t = np.arange(300)[:, None]
    rows = np.hstack([np.sin(t / 7), np.cos(t / 11), 0.5 * np.sin(t / 5)]) + rng.normal(0, 0.05, (300, 3))
    train_window_model(
        rows.astype(np.float32), ["a", "b", "c"], tmp_path / "m", name="m", version="t", window=4, epochs=150
    )
    return tmp_path / "m"


def test_graph_matches_numpy_reference() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(0, 1, (50, 12)).astype(np.float32)
    w = autoencoder.fit(x, epochs=20)
    import onnxruntime as ort

    sess = ort.InferenceSession(autoencoder.to_onnx(w), providers=["CPUExecutionProvider"])
    got = sess.run(["error"], {"window": x})[0]
    np.testing.assert_allclose(got, autoencoder.reconstruction_error(w, x), rtol=1e-4, atol=1e-6)


def test_ensemble_graph_is_the_mean_of_its_networks() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(0, 1, (40, 12)).astype(np.float32)
    nets = [autoencoder.fit(x, epochs=10, seed=k) for k in range(3)]
    import onnxruntime as ort

    sess = ort.InferenceSession(autoencoder.to_onnx(nets), providers=["CPUExecutionProvider"])
    got = sess.run(["error"], {"window": x})[0]
    want = np.mean([autoencoder.reconstruction_error(w, x) for w in nets], axis=0)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)
    assert not np.allclose(want, autoencoder.reconstruction_error(nets[0], x))  # members differ
    with pytest.raises(ValueError, match="at least one network"):
        autoencoder.to_onnx([])


def test_cross_fit_never_trains_on_the_rows_it_calibrates_with() -> None:
    rows = np.arange(100, dtype=np.float32)[:, None]  # each row carries its own index
    blocks = fold_bounds(len(rows), 5)
    assert blocks == [(0, 20), (20, 40), (40, 60), (60, 80), (80, 100)]
    for k, (lo, hi) in enumerate(blocks):
        seen = np.unique(windows_outside(rows, blocks, k, 4))
        assert not np.isin(np.arange(lo, hi), seen).any()
        assert len(seen) == len(rows) - (hi - lo)  # every other row is used


def test_calibration_uses_out_of_fold_errors(tmp_path: Path) -> None:
    """The reference comes from errors on rows each network never saw, which sit above the
    errors on its own training rows (a threshold from those would be too low)."""
    rng = np.random.default_rng(0)
    rows = rng.normal(0, 1, (200, 3)).astype(np.float32)
    scaled = (rows - rows.mean(0)) / rows.std(0)
    nets, out_of_fold = cross_fit(scaled, 4, 5, epochs=150, seed=0)
    in_sample = np.concatenate([autoencoder.reconstruction_error(w, sliding(scaled, 4)) for w in nets])
    assert np.quantile(out_of_fold, 0.99) > np.quantile(in_sample, 0.99)
    card = train_window_model(
        rows, ["a", "b", "c"], tmp_path / "m", name="m", version="t", window=4, epochs=150
    )
    assert card.training["folds"] == 5
    reference = float(np.quantile(out_of_fold, 0.99))
    assert card.calibration.error_reference == pytest.approx(reference, rel=1e-3)


def test_window_model_scores_anomalies_higher(window_model: Path) -> None:
    det = WindowModelDetector(OnnxModel(window_model))
    t = np.arange(300, 400)[:, None]
    normal = np.hstack([np.sin(t / 7), np.cos(t / 11), 0.5 * np.sin(t / 5)]).astype(np.float32)
    broken = normal.copy()
    broken[60:, 1] = 3.0  # one channel jumps far outside anything seen
    n, b = det.score_series(normal), det.score_series(broken)
    assert np.median(n[60:]) < 0.5 < np.median(b[60:])
    streaming = WindowModelDetector(OnnxModel(window_model))
    assert [round(streaming.score(r), 5) for r in broken] == pytest.approx(
        [round(float(s), 5) for s in b], abs=1e-4
    )


def test_wrong_window_and_nan_are_clear_errors(window_model: Path) -> None:
    det = WindowModelDetector(OnnxModel(window_model))
    with pytest.raises(DetectorInputError, match="shape"):
        det.score(np.zeros(5))
    with pytest.raises(DetectorInputError, match="NaN"):
        det.score(np.array([0.0, np.nan, 0.0]))
    with pytest.raises(DetectorInputError, match="shorter than the window"):
        det.score_series(np.zeros((2, 3)))
    with pytest.raises(DetectorInputError, match="input shape"):
        det.model.run(np.zeros((1, 7), np.float32))


def test_corrupt_model_file_is_refused(window_model: Path) -> None:
    (window_model / "model.onnx").write_bytes(b"\x08\x01garbage")
    with pytest.raises(CardError, match="sha256"):
        load_card(window_model)
    card = json.loads((window_model / "card.json").read_text())
    card["sha256"] = file_sha256(window_model / "model.onnx")
    (window_model / "card.json").write_text(json.dumps(card))
    with pytest.raises(CardError, match="not a loadable ONNX model"):
        OnnxModel(window_model)


def test_card_that_does_not_match_its_graph_is_refused(window_model: Path) -> None:
    card = json.loads((window_model / "card.json").read_text())
    card["input"]["shape"] = ["batch", 99]
    (window_model / "card.json").write_text(json.dumps(card))
    with pytest.raises(CardError, match="shape"):
        OnnxModel(window_model)
    card["input"]["shape"] = ["batch", 12]
    card["input"]["name"] = "frames"
    (window_model / "card.json").write_text(json.dumps(card))
    with pytest.raises(CardError, match="card says frames"):
        OnnxModel(window_model)


def test_mismatched_pair_and_missing_card(window_model: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    shutil.copytree(resolve_model("sensor-skab@2"), other)
    shutil.copy(window_model / "model.onnx", other / "model.onnx")
    with pytest.raises(CardError, match="not a pair"):
        load_card(other)
    (other / "card.json").unlink()
    with pytest.raises(CardError, match="missing"):
        load_card(other)
    (window_model / "card.json").write_text("{not json")
    with pytest.raises(CardError, match=r"card\.json"):
        load_card(window_model)
    with pytest.raises(CardError, match="name@version"):
        resolve_model("sensor-skab")


def test_scene_model_on_a_generated_clip(tmp_path: Path) -> None:
    """Trained on a clip with a slow walker; a fast large object elsewhere scores higher."""
    rng = np.random.default_rng(0)
    scene = textured_scene()
    normal = [noisy(with_box(scene, 40 + i, 100, 12, 30), rng) for i in range(120)]
    train_scene_model([normal], tmp_path / "s", name="s", version="t")
    model = OnnxModel(tmp_path / "s")
    det = SceneAnomalyDetector(model)
    calm = [det.score(noisy(with_box(scene, 60 + i, 100, 12, 30), rng)) for i in range(30)]
    fast = [det.score(noisy(with_box(scene, 10 + 9 * i, 160, 40, 40), rng)) for i in range(25)]
    assert max(calm) < 0.5 < float(np.median(fast))
    # The graph's motion cells are numpy's.
    a, b = (np.asarray(rng.random((120, 180)), np.float32) for _ in range(2))
    mean = np.zeros((6, 9), np.float32)
    std = np.ones((6, 9), np.float32)
    import onnxruntime as ort

    from riskstream.models.video.scene import to_onnx

    sess = ort.InferenceSession(to_onnx(mean, std, 120, 180, 20, 1), providers=["CPUExecutionProvider"])
    got = sess.run(["surprise"], {"frames": np.stack([a, b])[None]})[0][0]
    assert got == pytest.approx(float(cell_motion(a, b, 20).max()), rel=1e-5)
