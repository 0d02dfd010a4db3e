"""The import layers a newcomer relies on: lower layers never import higher ones."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "riskstream"
# package -> packages it must never import (at module level or inside functions)
FORBIDDEN = {
    "models": ("riskstream.evaluation", "riskstream.edge", "riskstream.streams",
               "riskstream.training", "riskstream.cli"),
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
