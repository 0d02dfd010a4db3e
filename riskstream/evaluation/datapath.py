"""Where the shared evaluation data lives: ``--data``, else ``RISKSTREAM_DATA``, else ``../shared/data``."""

from __future__ import annotations

import os
from pathlib import Path

_REPO = Path(__file__).resolve().parents[2]


class DataMissing(FileNotFoundError):
    """The evaluation data is not on this machine (tests skip on it with this message)."""


class DataUnreadable(Exception):
    """A dataset folder is there but not as its evaluation reads it (a file missing or
    malformed): the CLI says which dataset and what, without a traceback."""


def data_root(explicit: str | Path | None = None) -> Path:
    if explicit is not None and not Path(explicit).is_dir():
        raise DataMissing(f"--data {explicit}: no such folder")
    candidates = [explicit, os.environ.get("RISKSTREAM_DATA"), _REPO.parent / "shared" / "data"]
    for c in candidates:
        if c and Path(c).is_dir():
            return Path(c)
    raise DataMissing(
        "evaluation data not found: pass --data PATH or set RISKSTREAM_DATA "
        f"(default {_REPO.parent / 'shared' / 'data'} does not exist)"
    )


def dataset_dir(name: str, explicit: str | Path | None = None) -> Path:
    """The folder of one dataset; ``explicit`` may be the dataset folder itself or the data root."""
    if explicit and (Path(explicit) / "README.md").is_file() and not (Path(explicit) / name).is_dir():
        return Path(explicit)
    path = data_root(explicit) / name
    if not path.is_dir():
        raise DataMissing(f"{name} data not found under {path.parent}")
    return path
