"""The import layers a newcomer relies on: lower layers never import higher ones."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "riskstream"
# package -> packages it must never import (at module level or inside functions)
FORBIDDEN = {
    "models": ("riskstream.evaluation", "riskstream.edge", "riskstream.streams",
               "riskstream.training", "riskstream.cli", "riskstream.detectors"),
    # plugins: config and factory; they build models, never the layers that run them
    "detectors": ("riskstream.edge", "riskstream.streams", "riskstream.evaluation",
                  "riskstream.training", "riskstream.sensors", "riskstream.center", "riskstream.cli"),
    "sensors": ("riskstream.edge", "riskstream.streams", "riskstream.evaluation",
                "riskstream.training"),
    "alarms": ("riskstream.streams", "riskstream.edge", "riskstream.center",
               "riskstream.storage", "riskstream.evaluation"),
    "config": ("riskstream.models", "riskstream.edge", "riskstream.streams",
               "riskstream.evaluation"),
}


def imports_of(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
    return found


def test_lower_layers_never_import_higher_ones() -> None:
    wrong = []
    for package, banned in FORBIDDEN.items():
        for path in sorted((ROOT / package).rglob("*.py")):
            for name in imports_of(path):
                if name.startswith(banned):
                    wrong.append(f"{path.relative_to(ROOT.parent)} imports {name}")
    assert wrong == []


def test_loading_a_config_loads_no_detector_runtime() -> None:
    """Plugins import their models inside ``build``: a stream worker or the console loads the
    deployment YAML without numpy, OpenCV or onnxruntime (its extra may not have them)."""
    import subprocess
    import sys

    code = ("import sys; from riskstream.config import parse; "
            "parse('sites: [{id: s, name: S, district: d, kind: road}]'); "
            "import riskstream.detectors; "
            "print(sorted(m for m in ('numpy', 'cv2', 'onnxruntime') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_importing_a_plugin_first_works() -> None:
    """riskstream.config's names load lazily, so a plugin that imports config.base first does
    not meet a half-initialised registry."""
    import subprocess
    import sys

    code = "import riskstream.detectors.rate; import riskstream.config; print(riskstream.config.Config)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "Config" in out.stdout
