"""A small dense autoencoder over sliding windows: trained with numpy, exported to ONNX.

No deep-learning framework is needed: the network (window -> 32 tanh -> code -> 32 tanh ->
window) is small enough to train by full-batch Adam on a 2-core CPU in seconds, and exporting
it is four Gemm nodes. The exported graph outputs the mean squared reconstruction error per
window, so the runtime has nothing model-specific to compute; an ensemble of networks is one
graph whose output is the mean of their errors.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np

from riskstream.models.base import FloatArray
from riskstream.models.onnx_export import serialize


@dataclass(slots=True)
class AutoencoderWeights:
    layers: list[tuple[FloatArray, FloatArray]]  # (W, b) for enc1, code, dec1, out


def _forward(w: AutoencoderWeights, x: FloatArray) -> tuple[list[FloatArray], FloatArray]:
    (w1, b1), (w2, b2), (w3, b3), (w4, b4) = w.layers
    h1 = np.tanh(x @ w1 + b1)
    z = h1 @ w2 + b2
    h3 = np.tanh(z @ w3 + b3)
    return [x, h1, z, h3], h3 @ w4 + b4


def reconstruction_error(w: AutoencoderWeights, x: FloatArray) -> FloatArray:
    _, y = _forward(w, x)
    return np.asarray(((y - x) ** 2).mean(axis=1), dtype=np.float32)


def fit(
    x: FloatArray,
    hidden: int = 32,
    code: int = 8,
    epochs: int = 400,
    lr: float = 3e-3,
    l2: float = 1e-4,
    noise: float = 0.05,
    seed: int = 0,
) -> AutoencoderWeights:
    """Full-batch Adam on MSE with small input noise (a denoising AE generalises better)."""
    rng = np.random.default_rng(seed)
    dims = [x.shape[1], hidden, code, hidden, x.shape[1]]
    layers = [
        (rng.normal(0, np.sqrt(1.0 / a), (a, b)).astype(np.float32), np.zeros(b, np.float32))
        for a, b in itertools.pairwise(dims)
    ]
    w = AutoencoderWeights(layers)
    m = [[np.zeros_like(p) for p in layer] for layer in layers]
    v = [[np.zeros_like(p) for p in layer] for layer in layers]
    for step in range(1, epochs + 1):
        noisy = x + rng.normal(0, noise, x.shape).astype(np.float32)
        acts, y = _forward(w, noisy)
        grad = 2.0 * (y - x) / x.size
        grads: list[tuple[FloatArray, FloatArray]] = []
        for i in reversed(range(4)):
            wi, _ = w.layers[i]
            grads.append((acts[i].T @ grad + l2 * wi, grad.sum(axis=0)))
            grad = grad @ wi.T
            if i in (1, 3):  # back through tanh
                grad = grad * (1.0 - acts[i] ** 2)
        grads.reverse()
        for i, (gw, gb) in enumerate(grads):
            for j, g in enumerate((gw, gb)):
                m[i][j] = 0.9 * m[i][j] + 0.1 * g
                v[i][j] = 0.999 * v[i][j] + 0.001 * g * g
                mhat, vhat = m[i][j] / (1 - 0.9**step), v[i][j] / (1 - 0.999**step)
                w.layers[i][j][...] -= (lr * mhat / (np.sqrt(vhat) + 1e-8)).astype(np.float32)
    return w


def _member_nodes(w: AutoencoderWeights, k: int, input_name: str, inits: list[Any], nodes: list[Any]) -> str:
    """One network's Gemm/Tanh chain and its per-window mean squared error; returns the name
    of that error tensor."""
    from onnx import helper, numpy_helper

    prev = input_name
    for i, (wi, bi) in enumerate(w.layers):
        inits += [numpy_helper.from_array(wi, f"m{k}_W{i}"), numpy_helper.from_array(bi, f"m{k}_b{i}")]
        nodes.append(helper.make_node("Gemm", [prev, f"m{k}_W{i}", f"m{k}_b{i}"], [f"m{k}_g{i}"]))
        prev = f"m{k}_g{i}"
        if i in (0, 2):
            nodes.append(helper.make_node("Tanh", [prev], [f"m{k}_t{i}"]))
            prev = f"m{k}_t{i}"
    nodes += [
        helper.make_node("Sub", [prev, input_name], [f"m{k}_diff"]),
        helper.make_node("Mul", [f"m{k}_diff", f"m{k}_diff"], [f"m{k}_sq"]),
        helper.make_node("ReduceMean", [f"m{k}_sq", "axes"], [f"m{k}_error"], keepdims=0),
    ]
    return f"m{k}_error"


def to_onnx(
    members: AutoencoderWeights | list[AutoencoderWeights],
    input_name: str = "window",
    output_name: str = "error",
) -> bytes:
    """The network(s) plus the reconstruction error as one ONNX graph (opset 18). With several
    networks (an ensemble) the output is the mean of their errors."""
    from onnx import TensorProto, helper, numpy_helper

    members = members if isinstance(members, list) else [members]
    if not members:
        raise ValueError("an ONNX export needs at least one network")
    inits: list[Any] = [numpy_helper.from_array(np.array([1], dtype=np.int64), "axes")]
    nodes: list[Any] = []
    errors = [_member_nodes(w, k, input_name, inits, nodes) for k, w in enumerate(members)]
    nodes.append(helper.make_node("Mean", errors, [output_name]))
    dim = members[0].layers[0][0].shape[0]
    graph = helper.make_graph(
        nodes,
        "window_autoencoder" if len(members) == 1 else f"window_autoencoder_ensemble_{len(members)}",
        [helper.make_tensor_value_info(input_name, TensorProto.FLOAT, ["batch", dim])],
        [helper.make_tensor_value_info(output_name, TensorProto.FLOAT, ["batch"])],
        inits,
    )
    return serialize(graph)
