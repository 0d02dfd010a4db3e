"""Model artifacts by reference: ``name@version`` is ``<models root>/<name>/<version>/``
(``model.onnx`` + ``card.json``); the card, not the data, says how to feed the model."""

from __future__ import annotations

from pathlib import Path

from riskstream.models.card import CardError

DEFAULT_MODELS_ROOT = Path(__file__).resolve().parents[2] / "models"


def resolve_model(ref: str, root: Path | None = None) -> Path:
    name, sep, version = ref.partition("@")
    if not sep or not name or not version:
        raise CardError(f"model reference {ref!r} must be name@version")
    directory = (root or DEFAULT_MODELS_ROOT) / name / version
    if not directory.is_dir():
        raise CardError(f"model {ref}: no artifact at {directory}")
    return directory
