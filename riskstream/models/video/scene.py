"""Scene anomaly: per-location motion statistics of one camera's normal footage, as ONNX.

The model takes the previous and the current grayscale frame (resized and scaled as the card
says), measures motion energy (mean absolute frame difference) in each cell of a grid, compares
each cell with its mean and spread on normal footage of that camera, and outputs the mean of the
``top_k`` largest standardised cell values: something moving where or how fast nothing moves in
normal footage (a bike or a cart among pedestrians) stands out. Training is statistics over the
normal clips, so it is re-runnable in seconds; scoring is a few small ops (thousands of frames/s).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from riskstream.models.base import DetectorInputError, FloatArray, clip_score
from riskstream.models.card import (
    Calibration,
    CardError,
    ModelCard,
    Preprocessing,
    TensorSpec,
)
from riskstream.models.onnx_export import save_artifact, serialize
from riskstream.models.onnx_model import OnnxModel
from riskstream.models.video.frames import as_gray
from riskstream.models.window_model import error_to_score

INPUT, OUTPUT = "frames", "surprise"
SMOOTH = 5  # frames the detector's score is a trailing mean over (one noisy pair is no incident)


def preprocess(frame: Any, height: int, width: int, scale: float) -> FloatArray:
    import cv2

    gray = as_gray(frame)
    small = cv2.resize(gray, (width, height), interpolation=cv2.INTER_AREA)
    return np.asarray(small, dtype=np.float32) * np.float32(scale)


def cell_motion(prev: FloatArray, cur: FloatArray, cell: int) -> FloatArray:
    """Mean absolute difference per ``cell`` x ``cell`` block (the same arithmetic as the graph)."""
    h, w = cur.shape
    d = np.abs(cur - prev)
    return np.asarray(d.reshape(h // cell, cell, w // cell, cell).mean(axis=(1, 3)), dtype=np.float32)


def to_onnx(mean: FloatArray, std: FloatArray, height: int, width: int, cell: int, top_k: int) -> bytes:
    from onnx import TensorProto, helper, numpy_helper

    gh, gw = mean.shape
    inits = [
        numpy_helper.from_array(mean.reshape(1, 1, gh, gw).astype(np.float32), "cell_mean"),
        numpy_helper.from_array(std.reshape(1, 1, gh, gw).astype(np.float32), "cell_std"),
        numpy_helper.from_array(np.array([0], np.int64), "i0"),
        numpy_helper.from_array(np.array([1], np.int64), "i1"),
        numpy_helper.from_array(np.array([2], np.int64), "i2"),
        numpy_helper.from_array(np.array([1], np.int64), "axis1"),
        numpy_helper.from_array(np.array([1, gh * gw], np.int64), "flat"),
        numpy_helper.from_array(np.array([top_k], np.int64), "k"),
    ]
    nodes = [
        helper.make_node("Slice", [INPUT, "i0", "i1", "axis1"], ["prev"]),
        helper.make_node("Slice", [INPUT, "i1", "i2", "axis1"], ["cur"]),
        helper.make_node("Sub", ["cur", "prev"], ["diff"]),
        helper.make_node("Abs", ["diff"], ["absdiff"]),
        helper.make_node(
            "AveragePool", ["absdiff"], ["cells"], kernel_shape=[cell, cell], strides=[cell, cell]
        ),
        helper.make_node("Sub", ["cells", "cell_mean"], ["centred"]),
        helper.make_node("Div", ["centred", "cell_std"], ["z"]),
        helper.make_node("Reshape", ["z", "flat"], ["zflat"]),
        helper.make_node("TopK", ["zflat", "k"], ["top", "top_idx"], axis=1),
        helper.make_node("ReduceMean", ["top", "axis1"], [OUTPUT], keepdims=0),
    ]
    graph = helper.make_graph(
        nodes,
        "scene_motion_statistics",
        [helper.make_tensor_value_info(INPUT, TensorProto.FLOAT, [1, 2, height, width])],
        [helper.make_tensor_value_info(OUTPUT, TensorProto.FLOAT, [1])],
        inits,
    )
    return serialize(graph)


def train_scene_model(
    clips: Iterable[Iterable[Any]],
    out_dir: Path,
    *,
    name: str,
    version: str,
    height: int = 120,
    width: int = 180,
    cell: int = 20,
    top_k: int = 3,
    quantile: float = 0.999,
    training: dict[str, Any] | None = None,
) -> ModelCard:
    """Fit per-cell motion statistics on normal clips (each an iterable of frames)."""
    if height % cell or width % cell:
        raise ValueError(f"frame size {height}x{width} must be a multiple of the cell size {cell}")
    cells, n_frames = [], 0
    for clip in clips:
        prev = None
        for frame in clip:
            cur = preprocess(frame, height, width, 1.0 / 255.0)
            n_frames += 1
            if prev is not None:
                cells.append(cell_motion(prev, cur, cell))
            prev = cur
    if len(cells) < 10:
        raise DetectorInputError(f"need at least 10 normal frame pairs to train, got {len(cells)}")
    stack = np.stack(cells)
    mean, std = stack.mean(axis=0), stack.std(axis=0) + 1e-3
    z = ((stack - mean) / std).reshape(len(stack), -1)
    surprise = np.sort(z, axis=1)[:, -top_k:].mean(axis=1)
    reference = float(np.quantile(surprise, quantile))
    return save_artifact(
        out_dir,
        to_onnx(mean, std, height, width, cell, top_k),
        name=name,
        version=version,
        task="video scene anomaly (per-cell motion statistics of normal footage)",
        input=TensorSpec(
            name=INPUT, shape=[1, 2, height, width], layout="1, (previous, current) frame, height, width"
        ),
        output=TensorSpec(name=OUTPUT, shape=[1], layout="1"),
        output_meaning=f"mean of the {top_k} largest per-cell motion z-scores ({cell}x{cell} px cells); "
        "score = max(s, 0) / (max(s, 0) + calibration.error_reference)",
        preprocessing=Preprocessing(kind="grayscale_frame", height=height, width=width, scale=1.0 / 255.0),
        calibration=Calibration(error_reference=max(reference, 1e-6), quantile=quantile, min_consecutive=3),
        training={
            "frames": n_frames,
            "frame_pairs": len(stack),
            "cell": cell,
            "top_k": top_k,
            **(training or {}),
        },
    )


class SceneAnomalyDetector:
    """Streaming: ``score(frame)`` with each analysed frame; the first frame scores 0. The card
    says how frames become the model's input: a (previous, current) grayscale pair, or the
    optical flow magnitude between them (:mod:`riskstream.models.video.speed`), scaled from the
    analysis rate ``fps`` to the card's."""

    def __init__(self, model: OnnxModel, smooth: int = SMOOTH, fps: float | None = None) -> None:
        pre = model.card.preprocessing
        if pre.kind not in ("grayscale_frame", "flow_magnitude") or not pre.height or not pre.width:
            raise CardError(f"{model.directory}: not a video frame model card")
        self.model, self.name, self._pre = model, model.card.model_ref, pre
        self._prev: FloatArray | None = None
        self._recent: deque[float] = deque(maxlen=smooth)
        self._flow = None
        if pre.kind == "flow_magnitude":
            from riskstream.models.video.speed import FlowField

            scale = fps / pre.fps if pre.fps and fps else 1.0  # px per analysed frame -> per card frame
            self._flow = FlowField(pre.height, pre.width, pre.flow_preset, pre.flow_finest_scale, scale)

    def warmup(self) -> None:
        self.model.warmup()

    def raw(self, frame: Any) -> float:
        if self._flow is not None:
            mag = self._flow.magnitude(frame)
            return 0.0 if mag is None else float(self.model.run(mag[None, None])[0])
        cur = preprocess(frame, self._pre.height, self._pre.width, self._pre.scale)
        prev, self._prev = self._prev, cur
        if prev is None:
            return 0.0
        return float(self.model.run(np.stack([prev, cur])[None])[0])

    def score(self, frame: Any) -> float:
        # A trailing mean over a few frames: one noisy frame pair is not an incident.
        self._recent.append(max(self.raw(frame), 0.0))
        mean = float(np.mean(self._recent))
        return clip_score(float(error_to_score(mean, self.model.card.calibration.error_reference)))
