"""Scene anomaly by speed: how fast things move at each place of a fixed camera's view, against
how fast things move there in its normal footage.

Where pedestrians are normal, a cyclist, a skater or a cart moves several times faster than
anyone walking. Frame differences mix speed with contrast and crowding (two pedestrians in a
cell move as much as one fast one); dense optical flow measures the speed itself. Perspective
makes far things move fewer pixels, so speeds are compared with the normal speed of their row
of cells, a straight line fitted over rows (smooth, and defined for rows where the normal
footage had little movement).

Preprocessing (card kind ``flow_magnitude``): grayscale, resized to the card's height x width,
dense optical flow (OpenCV DIS at the card's preset and finest scale) from the previous to the
current frame,
its magnitude in pixels per frame at the card's ``fps``; an analysis rate other than the
card's scales it to the card's. The ONNX graph takes that magnitude map and, per cell, the
mean speed of its moving pixels (faster than ``min_speed``; cells with fewer than
``min_share`` moving pixels count as still), divides it by its row's normal speed, and outputs
the mean of the ``top_k`` largest ratios.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from riskstream.models.base import DetectorInputError, FloatArray
from riskstream.models.card import Calibration, ModelCard, Preprocessing, TensorSpec
from riskstream.models.onnx_export import save_artifact, serialize
from riskstream.models.video.frames import as_gray
from riskstream.models.windows import trailing_mean

INPUT, OUTPUT = "flow_magnitude", "speed_ratio"
PRESETS = {"ultrafast": 0, "fast": 1, "medium": 2}  # cv2.DISOPTICAL_FLOW_PRESET_*


@dataclass(frozen=True, slots=True)
class SpeedSettings:
    """The defaults are what the Ped2 cross-validation chose (riskstream/evaluation/ped2_cv.py)."""

    height: int = 120
    width: int = 180
    cell: int = 6
    top_k: int = 3
    min_speed: float = 0.3  # px/frame at the card's size: slower is still (flow noise)
    min_share: float = 0.1  # of a cell's pixels moving, for the cell to count as moving
    preset: str = "ultrafast"
    # DIS works down to 1/2**finest_scale of the size (the preset's 2 lost small fast things)
    finest_scale: int = 1
    quantile: float = 0.99  # of moving cells' speeds per row: the row's normal speed


class FlowField:
    """Dense optical flow magnitude between consecutive frames, as the card says."""

    def __init__(self, height: int, width: int, preset: str, finest_scale: int, scale: float = 1.0) -> None:
        import cv2

        if preset not in PRESETS:
            raise DetectorInputError(f"unknown optical flow preset {preset!r}")
        self.size, self.scale = (width, height), np.float32(scale)
        self._dis = cv2.DISOpticalFlow_create(PRESETS[preset])  # type: ignore[attr-defined]
        self._dis.setFinestScale(finest_scale)
        self._prev: np.ndarray | None = None

    def magnitude(self, frame: Any) -> FloatArray | None:
        """The flow magnitude from the previous frame to this one (None for the first)."""
        import cv2

        cur = cv2.resize(as_gray(frame), self.size, interpolation=cv2.INTER_AREA)
        prev, self._prev = self._prev, cur
        if prev is None:
            return None
        flow = self._dis.calc(prev, cur, None)
        mag = cv2.magnitude(flow[..., 0], flow[..., 1])
        return np.asarray(mag * self.scale, dtype=np.float32)


def cell_speeds(mag: FloatArray, s: SpeedSettings) -> FloatArray:
    """Mean speed of the moving pixels per cell, 0 where a cell is still (the graph's arithmetic)."""
    h, w = mag.shape
    moving = (mag > s.min_speed).astype(np.float32)
    share = moving.reshape(h // s.cell, s.cell, w // s.cell, s.cell).mean(axis=(1, 3))
    total = (mag * moving).reshape(h // s.cell, s.cell, w // s.cell, s.cell).mean(axis=(1, 3))
    speed = total / (share + 1e-6)
    return np.asarray(np.where(share > s.min_share, speed, 0.0), dtype=np.float32)


def row_reference(speeds: FloatArray, quantile: float) -> FloatArray:
    """Each row's normal speed: a line, weighted by how much moved in each row, through the rows'
    ``quantile`` of moving cells' speeds; never below the slowest row's quantile / 2. Footage
    where fewer than two rows saw movement gets one speed for every row."""
    rows = speeds.shape[1]
    ys, qs, ws = [], [], []
    for r in range(rows):
        moving = speeds[:, r, :][speeds[:, r, :] > 0]
        if len(moving) >= 20:
            ys.append(r)
            qs.append(float(np.quantile(moving, quantile)))
            ws.append(float(np.sqrt(len(moving))))
    if len(ys) < 2:
        everything = speeds[speeds > 0]
        if len(everything) < 20:
            raise DetectorInputError("too little movement in the normal footage to learn its speeds")
        return np.full(rows, float(np.quantile(everything, quantile)), dtype=np.float32)
    slope, intercept = np.polyfit(ys, qs, 1, w=ws)
    floor = min(qs) / 2
    line = np.maximum(intercept + slope * np.arange(rows), floor)
    return np.asarray(line, dtype=np.float32)


def scores(speeds: FloatArray, reference: FloatArray, top_k: int) -> FloatArray:
    """The graph's output for each frame of ``speeds`` (frames, rows, cols)."""
    ratio = (speeds / reference[None, :, None]).reshape(len(speeds), -1)
    return np.asarray(np.sort(ratio, axis=1)[:, -top_k:].mean(axis=1), dtype=np.float32)


def to_onnx(reference: FloatArray, s: SpeedSettings) -> bytes:
    from onnx import TensorProto, helper, numpy_helper

    gh, gw = s.height // s.cell, s.width // s.cell
    inits = [
        numpy_helper.from_array(reference.reshape(1, 1, gh, 1).astype(np.float32), "row_reference"),
        numpy_helper.from_array(np.array(s.min_speed, np.float32), "min_speed"),
        numpy_helper.from_array(np.array(s.min_share, np.float32), "min_share"),
        numpy_helper.from_array(np.array(1e-6, np.float32), "eps"),
        numpy_helper.from_array(np.array([1, gh * gw], np.int64), "flat"),
        numpy_helper.from_array(np.array([s.top_k], np.int64), "k"),
        numpy_helper.from_array(np.array([1], np.int64), "axis1"),
    ]
    pool: dict[str, Any] = {"kernel_shape": [s.cell, s.cell], "strides": [s.cell, s.cell]}
    nodes = [
        helper.make_node("Greater", [INPUT, "min_speed"], ["is_moving"]),
        helper.make_node("Cast", ["is_moving"], ["moving"], to=TensorProto.FLOAT),
        helper.make_node("Mul", [INPUT, "moving"], ["moving_speed"]),
        helper.make_node("AveragePool", ["moving"], ["share"], **pool),
        helper.make_node("AveragePool", ["moving_speed"], ["total"], **pool),
        helper.make_node("Add", ["share", "eps"], ["share_eps"]),
        helper.make_node("Div", ["total", "share_eps"], ["speed"]),
        helper.make_node("Greater", ["share", "min_share"], ["is_busy"]),
        helper.make_node("Cast", ["is_busy"], ["busy"], to=TensorProto.FLOAT),
        helper.make_node("Mul", ["speed", "busy"], ["cell_speed"]),
        helper.make_node("Div", ["cell_speed", "row_reference"], ["ratio"]),
        helper.make_node("Reshape", ["ratio", "flat"], ["ratios"]),
        helper.make_node("TopK", ["ratios", "k"], ["top", "top_idx"], axis=1),
        helper.make_node("ReduceMean", ["top", "axis1"], [OUTPUT], keepdims=0),
    ]
    graph = helper.make_graph(
        nodes, "scene_speed_statistics",
        [helper.make_tensor_value_info(INPUT, TensorProto.FLOAT, [1, 1, s.height, s.width])],
        [helper.make_tensor_value_info(OUTPUT, TensorProto.FLOAT, [1])],
        inits,
    )
    return serialize(graph)


def clip_speeds(frames: Iterable[Any], s: SpeedSettings) -> FloatArray:
    """Cell speeds of every consecutive frame pair of one clip (frame pairs, rows, cols)."""
    field = FlowField(s.height, s.width, s.preset, s.finest_scale)
    out = [cell_speeds(m, s) for m in map(field.magnitude, frames) if m is not None]
    return np.stack(out) if out else np.zeros((0, s.height // s.cell, s.width // s.cell), np.float32)


def train_speed_model(
    clips: Iterable[Iterable[Any]],
    out_dir: Path,
    *,
    name: str,
    version: str,
    fps: float,
    settings: SpeedSettings = SpeedSettings(),
    calibration_quantile: float = 0.999,
    training: dict[str, Any] | None = None,
) -> ModelCard:
    """Learn each row's normal speed from normal clips (each an iterable of frames)."""
    s = settings
    if s.height % s.cell or s.width % s.cell:
        raise ValueError(f"frame size {s.height}x{s.width} must be a multiple of the cell size {s.cell}")
    from riskstream.models.video.scene import SMOOTH

    per_clip = [clip_speeds(c, s) for c in clips]
    speeds = np.concatenate(per_clip)
    if len(speeds) < 10:
        raise DetectorInputError(f"need at least 10 normal frame pairs to train, got {len(speeds)}")
    reference = row_reference(speeds, s.quantile)
    # Calibrated on what the detector thresholds: the trailing mean of its raw outputs, per clip.
    # (The quantile of single frame pairs, flow noise included, set the reference so high that
    # the cyclist of Ped2's test clip 01 never reached 0.5, however well it ranked.)
    surprise = np.concatenate([trailing_mean(scores(c, reference, s.top_k), SMOOTH)
                               for c in per_clip if len(c)])
    error_reference = max(float(np.quantile(surprise, calibration_quantile)), 1e-6)
    return save_artifact(
        out_dir,
        to_onnx(reference, s),
        name=name,
        version=version,
        task="video scene anomaly (speed at each place against normal footage, dense optical flow)",
        input=TensorSpec(name=INPUT, shape=[1, 1, s.height, s.width],
                         layout="1, 1, height, width: optical flow magnitude, px per frame"),
        output=TensorSpec(name=OUTPUT, shape=[1], layout="1"),
        output_meaning=f"mean of the {s.top_k} largest ratios of a {s.cell}x{s.cell} px cell's speed "
        "(mean flow of its moving pixels) to its row's normal speed; score = max(s, 0) / "
        "(max(s, 0) + calibration.error_reference)",
        preprocessing=Preprocessing(kind="flow_magnitude", height=s.height, width=s.width,
                                    scale=1.0, fps=fps, flow_preset=s.preset,
                                    flow_finest_scale=s.finest_scale),
        calibration=Calibration(error_reference=error_reference, quantile=calibration_quantile,
                                min_consecutive=2),  # ped2_cv protocol version 3
        training={"frame_pairs": len(speeds), "clips": len(per_clip), "cell": s.cell,
                  "top_k": s.top_k, "min_speed": s.min_speed, "min_share": s.min_share,
                  "row_quantile": s.quantile,
                  "row_reference_px_per_frame": [round(float(v), 4) for v in reference],
                  **(training or {})},
    )
