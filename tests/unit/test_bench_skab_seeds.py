"""The SKAB seed-spread summary: the worst seed is the lowest F1 but the highest error rates."""

from __future__ import annotations

from benchmarks.skab_seeds import summarise
from riskstream.evaluation.report import markdown


def _seed(f1: float, far: float, mar: float) -> dict[str, dict[str, float]]:
    return {"detector": {"f1": f1, "far": far, "mar": mar}}


def test_worst_seed_is_lowest_f1_and_highest_error_rates() -> None:
    s = summarise([_seed(0.82, 0.10, 0.20), _seed(0.78, 0.14, 0.30)], "detector")
    assert s["f1"] == {"mean": 0.8, "sd": 0.02, "worst": 0.78}
    assert s["far"]["worst"] == 0.14 and s["mar"]["worst"] == 0.30
    assert s["far"]["mean"] == 0.12


def test_spread_row_in_the_quality_table() -> None:
    summary = summarise([_seed(0.81, 0.12, 0.25), _seed(0.80, 0.13, 0.26)], "detector")
    table = markdown({"skab_seeds": {"seeds": 2, "detector": summary}})
    assert "SKAB over training seeds 0-1" in table
    assert "0.805 ± 0.005 (0.8) / 12.5% ± 0.5% (13.0%)" in table
