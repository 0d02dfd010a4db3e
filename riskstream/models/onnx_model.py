"""Run an ONNX artifact through onnxruntime exactly as its card describes it.

Loading checks that the graph's input and output names, ranks and element types agree with the
card (and the file hash, in :func:`riskstream.models.card.load_card`), so a swapped or corrupt
file fails at load with a clear message, not later inside onnxruntime or as a silent wrong score.
One intra-op thread: the edge box runs many of these side by side.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from riskstream.models.base import DetectorInputError, FloatArray
from riskstream.models.card import CardError, ModelCard, TensorSpec, load_card

_ORT_TYPES = {"float32": "tensor(float)"}


def _check(spec: TensorSpec, arg: object, what: str, path: Path) -> None:
    name, shape, kind = arg.name, arg.shape, arg.type  # type: ignore[attr-defined]
    if name != spec.name or len(shape) != len(spec.shape) or kind != _ORT_TYPES[spec.dtype]:
        raise CardError(
            f"{path}: {what} is {name}{list(shape)} {kind} in the graph but the card says "
            f"{spec.name}{spec.shape} {spec.dtype}"
        )
    for got, want in zip(shape, spec.shape, strict=False):
        if isinstance(want, int) and got != want:
            raise CardError(
                f"{path}: {what} {name} has shape {list(shape)} in the graph, card says {spec.shape}"
            )


class OnnxModel:
    """An ONNX graph and its card; ``run`` takes the already-preprocessed input batch."""

    def __init__(self, directory: Path, card: ModelCard | None = None) -> None:
        import onnxruntime as ort

        self.directory = directory
        self.card = card or load_card(directory)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        try:
            self._session = ort.InferenceSession(
                str(directory / "model.onnx"), opts, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own untyped errors for bad files
            raise CardError(f"{directory / 'model.onnx'}: not a loadable ONNX model: {exc}") from None
        inputs, outputs = self._session.get_inputs(), self._session.get_outputs()
        if len(inputs) != 1:
            raise CardError(f"{directory}: the graph has {len(inputs)} inputs, riskstream models have one")
        _check(self.card.input, inputs[0], "input", directory)
        match = [o for o in outputs if o.name == self.card.output.name]
        if not match:
            raise CardError(f"{directory}: the card's output {self.card.output.name!r} is not in the graph")
        _check(self.card.output, match[0], "output", directory)

    def run(self, batch: FloatArray) -> FloatArray:
        spec = self.card.input.shape
        wrong = any(isinstance(w, int) and g != w for g, w in zip(batch.shape, spec, strict=False))
        if batch.ndim != len(spec) or wrong:
            raise DetectorInputError(
                f"{self.card.model_ref}: input shape {batch.shape} does not match the card's {spec}"
            )
        out = self._session.run([self.card.output.name], {self.card.input.name: batch.astype(np.float32)})
        return np.asarray(out[0], dtype=np.float32)

    def warmup(self) -> None:
        shape = [d if isinstance(d, int) else 1 for d in self.card.input.shape]
        self.run(np.zeros(shape, dtype=np.float32))
