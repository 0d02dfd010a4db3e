"""Deployment configuration: pydantic schema and the YAML loader.

Names are loaded on first use, so that a detector plugin (:mod:`riskstream.detectors`), which
the schema imports for its detector settings, can itself import ``riskstream.config.base``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from riskstream.config.loader import ConfigError, load, parse
    from riskstream.config.schema import Camera, Config, Sensor, Site

__all__ = ["Camera", "Config", "ConfigError", "Sensor", "Site", "load", "parse"]
_HOME = {"ConfigError": "loader", "load": "loader", "parse": "loader",
         "Camera": "schema", "Config": "schema", "Sensor": "schema", "Site": "schema"}


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module 'riskstream.config' has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(f"riskstream.config.{_HOME[name]}"), name)
