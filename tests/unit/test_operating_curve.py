"""The operating curve in the report: NAB's figures and the generated series' joined per
threshold, only when both evaluations ran with it, the deployed threshold marked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from riskstream.evaluation import plots, report


def _results(with_generated: bool = True) -> dict[str, Any]:
    def nab_side(deployed: float) -> dict[str, Any]:
        def point(score: float, windows: int, fp_rows: int) -> dict[str, Any]:
            return {"standard": score, "windows_detected": windows, "false_positive_rows": fp_rows}

        return {"threshold": {"threshold": deployed}, "standard": {"windows": 19},
                "operating_curve": {"0.6": point(70.0, 17, 50), "0.66": point(65.9, 16, 38)}}

    def gen_side(at_060: int, at_066: int) -> dict[str, Any]:
        return {"operating_curve": {"0.6": at_060, "0.66": at_066}}

    results: dict[str, Any] = {"nab": {"detector": nab_side(0.66), "quiet_variant": nab_side(0.6)}}
    if with_generated:
        results["generated"] = {
            "clean_over_seeds": {"series": 80, "ours": gen_side(37, 32), "quiet": gen_side(14, 9)},
            "injected_over_seeds": {"cases": 264, "ours": gen_side(264, 262), "quiet": gen_side(260, 258)},
            "long_run_clean": {"ours": {"operating_curve_per_10000_rows": {"0.6": 9.0, "0.66": 4.3}},
                               "quiet": {"operating_curve_per_10000_rows": {"0.6": 2.0, "0.66": 0.9}}},
        }
    return results


def test_the_curve_joins_both_evaluations_per_threshold() -> None:
    curve = report.operating_curve(_results())
    assert curve["default"]["0.66"] == {"standard": 65.9, "windows_detected": 16, "false_positive_rows": 38,
                                        "clean": 32, "settled": 4.3, "found": 262, "deployed": True}
    assert curve["quiet variant"]["0.6"]["clean"] == 14
    assert [th for th, p in curve["quiet variant"].items() if p["deployed"]] == ["0.6"]


def test_the_table_marks_the_deployed_threshold_and_needs_both_halves() -> None:
    table = "\n".join(report.operating_curve_table(_results()))
    assert "| 0.66 | **65.9 (16, 38) / 32 / 4.3 / 262** | 65.9 (16, 38) / 9 / 0.9 / 258 |" in table
    assert "| 0.6 | 70.0 (17, 50) / 37 / 9.0 / 264 | **70.0 (17, 50) / 14 / 2.0 / 260** |" in table
    assert "windows of 19" in table and "the 80 clean series" in table and "of 264" in table
    assert report.operating_curve_table(_results(with_generated=False)) == []


def test_the_curve_is_plotted(tmp_path: Path) -> None:
    (png,) = plots.operating_curve(report.operating_curve(_results()), tmp_path)
    assert png.name == "operating_curve.png" and png.stat().st_size > 1000
    assert plots.operating_curve({}, tmp_path / "none") == []
