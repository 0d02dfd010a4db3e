"""Load a deployment YAML file into a validated :class:`Config`.

Errors name the file, the line, the field path and what was expected, e.g.::

    config/demo.yaml:42: sensors.3.thresholds.alarm: Input should be a valid number
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from riskstream.config.schema import Config, reference_errors

Loc = tuple[str | int, ...]


class ConfigError(ValueError):
    """A configuration file that cannot be used; ``problems`` lists one line per mistake."""

    def __init__(self, path: str, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        super().__init__(f"invalid configuration {path}:\n  " + "\n  ".join(problems))


def _node_line(root: yaml.Node | None, loc: Loc) -> int | None:
    """1-based line of the YAML node at ``loc``, or of its deepest existing parent."""
    node, line = root, (root.start_mark.line + 1 if root is not None else None)
    for part in loc:
        child: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key.value == part:
                    child, line = value, key.start_mark.line + 1
                    break
        elif (isinstance(node, yaml.SequenceNode) and isinstance(part, int)
              and 0 <= part < len(node.value)):
            child = node.value[part]
            line = child.start_mark.line + 1
        if child is None:
            break
        node = child
    return line


def _format(path: str, root: yaml.Node | None, loc: Loc, message: str) -> str:
    line = _node_line(root, loc)
    where = f"{path}:{line}" if line is not None else path
    field = ".".join(str(p) for p in loc) or "(top level)"
    return f"{where}: {field}: {message}"


def _pydantic_problems(path: str, root: yaml.Node | None, err: ValidationError) -> list[str]:
    problems = []
    for item in err.errors(include_url=False):
        # Drop pydantic's tagged-union / function-wrapper markers from the location.
        loc = tuple(p for p in item["loc"] if not (isinstance(p, str) and "[" in p))
        message = item["msg"]
        if item["type"] == "extra_forbidden":
            message = "unknown field (check the spelling; see the schema in riskstream/config)"
        elif (item["type"] == "union_tag_invalid" and loc[:1] == ("sensors",)
              and item.get("ctx", {}).get("tag") == "window_model"):
            message = ("a window model scores several sensors together: list them in an asset "
                       "(assets: [{id, site, point, sensors: [...], detector: {type: window_model, "
                       "model: ...}}]), not on one sensor")
        elif "input" in item and item["type"] not in ("missing",):
            shown = repr(item["input"])
            message = f"{message} (got {shown[:60]})"
        problems.append(_format(path, root, loc, message))
    return problems


def parse(text: str, path: str = "<string>") -> Config:
    """Validate YAML text; ``path`` is only used in error messages."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else path
        raise ConfigError(path, [f"{where}: not valid YAML: {exc}"]) from None
    if not isinstance(data, Mapping):
        raise ConfigError(path, [f"{path}: expected a mapping with 'sites' at the top level"])
    try:
        cfg = Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(path, _pydantic_problems(path, root, exc)) from None
    problems = [_format(path, root, loc, msg) for loc, msg in reference_errors(cfg)]
    if problems:
        raise ConfigError(path, problems)
    return cfg


def load(path: str | os.PathLike[str], environ: Mapping[str, str] | None = None) -> Config:
    """Read and validate a config file, then apply ``RS_*`` environment overrides."""
    text_path = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(text_path, [f"{text_path}: cannot read: {exc.strerror}"]) from None
    cfg = parse(text, text_path)
    return with_env_overrides(cfg, os.environ if environ is None else environ)


_OVERRIDES: Sequence[tuple[str, tuple[str, str], type]] = (
    ("RS_KAFKA_BOOTSTRAP", ("kafka", "bootstrap"), str),
    ("RS_KAFKA_SECURITY_PROTOCOL", ("kafka", "security_protocol"), str),
    ("RS_KAFKA_SASL_MECHANISM", ("kafka", "sasl_mechanism"), str),
    ("RS_MQTT_HOST", ("mqtt", "host"), str),
    ("RS_MQTT_PORT", ("mqtt", "port"), int),
    ("RS_MQTT_USERNAME", ("mqtt", "username"), str),
    ("RS_CLICKHOUSE_DSN", ("clickhouse", "dsn"), str),
    ("RS_WORKER_METRICS_PORT", ("worker", "metrics_port"), int),
    ("RS_EDGE_METRICS_PORT", ("edge", "metrics_port"), int),
)


def with_env_overrides(cfg: Config, environ: Mapping[str, str]) -> Config:
    """Connection settings from the environment win over the file (12-factor style)."""
    updates: dict[str, dict[str, Any]] = {}
    for var, (section, key), kind in _OVERRIDES:
        if var in environ:
            try:
                updates.setdefault(section, {})[key] = kind(environ[var])
            except ValueError:
                raise ConfigError(var, [f"env {var}: expected {kind.__name__}"]) from None
    if not updates:
        return cfg
    merged = cfg.model_dump()
    for section, values in updates.items():
        merged[section].update(values)
    return Config.model_validate(merged)
