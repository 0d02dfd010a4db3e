"""Model cards: everything the runtime needs to feed and read an ONNX model.

The runtime never guesses an input format: input name, shape, dtype and layout, the
preprocessing constants and the meaning of the output all come from ``card.json``, and
:mod:`riskstream.models.onnx_model` refuses a model whose graph disagrees with its card.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, model_validator

from riskstream.config.base import Strict


class CardError(ValueError):
    """A card that is missing, malformed or does not match its model."""


class TensorSpec(Strict):
    name: str = Field(description="Tensor name in the ONNX graph.")
    shape: list[int | str] = Field(description="Dimensions; a string names a dynamic axis (e.g. 'batch').")
    dtype: Literal["float32"] = Field("float32", description="Element type.")
    layout: str = Field(
        description="What each axis is, e.g. 'batch,window*features' or 'batch,channel,height,width'."
    )


class Preprocessing(Strict):
    kind: Literal["standardized_window", "grayscale_frame", "flow_magnitude"] = Field(
        description="How raw input becomes the tensor: sensor windows standardised per feature, "
        "a (previous, current) pair of grayscale frames, or the dense optical flow magnitude "
        "between them (px per frame)."
    )
    window: int = Field(1, ge=1, description="Rows per window (sensor models).")
    features: list[str] = Field(default_factory=list, description="Feature names, in tensor order.")
    mean: list[float] = Field(default_factory=list, description="Per-feature mean subtracted before scaling.")
    std: list[float] = Field(default_factory=list, description="Per-feature divisor after centring.")
    height: int = Field(0, ge=0, description="Frame height after resizing (video models).")
    width: int = Field(0, ge=0, description="Frame width after resizing (video models).")
    scale: float = Field(1.0 / 255.0, description="Pixel scaling (video models).")
    fps: float = Field(0.0, ge=0, description="Frame rate the model's per-frame motion assumes "
                       "(flow models: another analysis rate is scaled to it); 0: none.")
    flow_preset: Literal["", "ultrafast", "fast", "medium"] = Field(
        "", description="OpenCV DIS optical flow preset of flow models.")
    flow_finest_scale: int = Field(1, ge=0, le=4, description="Finest pyramid level DIS computes "
                                   "flow at (flow models): 0 = full size, 1 = half, ...")

    @model_validator(mode="after")
    def _flow_models_name_their_flow(self) -> Preprocessing:
        if self.kind == "flow_magnitude" and not (self.flow_preset and self.height and self.width):
            raise ValueError("a flow_magnitude card needs flow_preset, height and width")
        return self


class Calibration(Strict):
    error_reference: float = Field(gt=0, description="Output value mapped to score 0.5: the quantile below.")
    quantile: float = Field(gt=0, lt=1, description="Quantile of the error on normal training data it is.")
    threshold: float = Field(0.5, ge=0, le=1, description="Recommended score threshold.")
    min_consecutive: int = Field(1, ge=1, description="Recommended persistence before firing.")


class ModelCard(Strict):
    name: str = Field(description="Model name (directory under models/).")
    version: str = Field(description="Model version (sub-directory).")
    task: str = Field(description="What it detects.")
    input: TensorSpec = Field(description="The one input tensor.")
    output: TensorSpec = Field(description="The one output tensor used for scoring.")
    output_meaning: str = Field(description="What the output means and how it becomes a score.")
    preprocessing: Preprocessing = Field(description="How raw data becomes the input tensor.")
    calibration: Calibration = Field(description="Score mapping and thresholds from normal data.")
    training: dict[str, Any] = Field(description="Training data, recipe and command.")
    evaluation: dict[str, Any] = Field(
        default_factory=dict, description="Figures with the command that made them."
    )
    sha256: str = Field(description="SHA-256 of model.onnx; a mismatch means card and model are not a pair.")

    @property
    def model_ref(self) -> str:
        return f"{self.name}@{self.version}"


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_card(directory: Path) -> ModelCard:
    """The card of ``directory``, checked against the model file next to it."""
    card_path, model_path = directory / "card.json", directory / "model.onnx"
    for p in (card_path, model_path):
        if not p.is_file():
            raise CardError(f"{p}: missing")
    try:
        card = ModelCard.model_validate(json.loads(card_path.read_text()))
    except (json.JSONDecodeError, ValidationError) as exc:
        raise CardError(f"{card_path}: {exc}") from None
    if file_sha256(model_path) != card.sha256:
        raise CardError(
            f"{card_path}: sha256 does not match {model_path.name}: card and model are not a pair"
        )
    return card


def write_card(directory: Path, card: ModelCard) -> None:
    (directory / "card.json").write_text(json.dumps(card.model_dump(mode="json"), indent=2) + "\n")


def set_evaluation(directory: Path, figures: dict[str, Any]) -> None:
    """Record evaluation figures (with the command that made them) in an existing card."""
    card = load_card(directory)
    write_card(directory, card.model_copy(update={"evaluation": figures}))
