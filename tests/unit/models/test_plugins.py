"""The detector registry: one plugin per file, each placed where the config may use it."""

from __future__ import annotations

import typing
from pathlib import Path

import pytest

from riskstream.detectors import (
    PLUGINS,
    AssetDetectorSpec,
    CameraDetectorSpec,
    DetectorSpec,
    SensorDetectorSpec,
    WindowModelSpec,
    build,
    plugin_of,
)
from riskstream.detectors.plugin import SpecBase


def members(union: object) -> set[type]:
    return set(typing.get_args(typing.get_args(union)[0]))


def test_every_plugin_file_is_registered_once() -> None:
    folder = Path(__file__).resolve().parents[3] / "riskstream" / "detectors"
    files = {p.stem for p in folder.glob("*.py")} - {"__init__", "plugin"}
    modules = {p.build.__module__.rsplit(".", 1)[1] for p in PLUGINS.values()}
    assert modules == files
    assert members(DetectorSpec) == {p.spec for p in PLUGINS.values()}


@pytest.mark.parametrize(("union", "place"), [(SensorDetectorSpec, "sensor"), (CameraDetectorSpec, "camera")])
def test_each_place_accepts_exactly_its_plugins(union: object, place: str) -> None:
    assert members(union) == {p.spec for p in PLUGINS.values() if place in p.places}


def test_assets_take_the_window_model() -> None:
    from riskstream.config.schema import Asset

    assert Asset.model_fields["detector"].annotation is AssetDetectorSpec is WindowModelSpec
    assert {p.spec for p in PLUGINS.values() if "asset" in p.places} == {AssetDetectorSpec}


def test_a_plugin_says_what_its_detections_are() -> None:
    for name, plugin in PLUGINS.items():
        assert plugin.type == name
        assert plugin.event.startswith(("sensor.", "video."))
        assert issubclass(plugin.spec, SpecBase)
        assert plugin.gated is False or plugin.feeds == "frame"


def test_build_refuses_what_is_not_a_detector_config() -> None:
    class Impostor(SpecBase):
        type: typing.Literal["rate"] = "rate"  # a known name on a foreign class

    with pytest.raises(TypeError, match="not a detector spec"):
        plugin_of(Impostor())
    with pytest.raises(TypeError, match="not a detector spec"):
        build(object())  # type: ignore[arg-type]


def test_the_quiet_knn_variant_is_chosen_in_the_config() -> None:
    from pydantic import TypeAdapter, ValidationError

    sensor = TypeAdapter(SensorDetectorSpec)
    quiet = build(sensor.validate_python({"type": "knn_likelihood", "ranks": "overlapping"}))
    assert quiet.ranks == "overlapping" and quiet.name.endswith("/overlapping-ranks")
    assert build(sensor.validate_python({"type": "knn_likelihood"})).ranks == "independent"
    calm = build(sensor.validate_python({"type": "knn_likelihood", "ranks": "conditional"}))
    assert calm.ranks == "conditional" and calm.name.endswith("/conditional-ranks")
    with pytest.raises(ValidationError, match="independent"):
        sensor.validate_python({"type": "knn_likelihood", "ranks": "quiet"})
