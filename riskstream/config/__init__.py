"""Deployment configuration: pydantic schema and the YAML loader."""

from riskstream.config.loader import ConfigError, load, parse
from riskstream.config.schema import Camera, Config, Sensor, Site

__all__ = ["Camera", "Config", "ConfigError", "Sensor", "Site", "load", "parse"]
