"""Turning a hand-built ONNX graph into checked model bytes, and saving an artifact with its card."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from riskstream.models.card import ModelCard, file_sha256, write_card

OPSET = 18  # ReduceMean with axes as an input needs opset 18
IR_VERSION = 8  # what the onnxruntime versions we support all read


def serialize(graph: Any) -> bytes:
    """A model around ``graph``, checked by onnx's own checker, as bytes."""
    import onnx
    from onnx import helper

    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="riskstream"
    )
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model)
    return bytes(model.SerializeToString())


def save_artifact(out_dir: Path, model_bytes: bytes, **card_fields: Any) -> ModelCard:
    """Write ``model.onnx`` and its ``card.json`` (with the file's hash) into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "model.onnx").write_bytes(model_bytes)
    card = ModelCard(**card_fields, sha256=file_sha256(out_dir / "model.onnx"))
    write_card(out_dir, card)
    return card
