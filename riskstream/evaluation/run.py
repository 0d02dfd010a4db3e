"""``riskstream eval``: run one dataset (or all), write results, plots and the Markdown table."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from riskstream.evaluation import nab, ped2, plots, report, skab, tep, urfd

log = logging.getLogger(__name__)

DATASETS: dict[str, tuple[Callable[[Any], dict[str, Any]], Callable[[dict[str, Any], Path], list[Path]]]] = {
    "nab": (nab.evaluate, plots.nab),
    "skab": (skab.evaluate, lambda r, out: plots.series_flags("skab", r, out)),
    "tep": (tep.evaluate, lambda r, out: plots.series_flags("tep", r, out)),
    "ped2": (ped2.evaluate, plots.ped2),
    "urfd": (urfd.evaluate, plots.urfd),
}


def run(names: list[str], data: Path | None, results_dir: Path, make_plots: bool = True) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for name in names:
        evaluate, plot = DATASETS[name]
        log.info("evaluating %s ...", name)
        start = time.monotonic()
        result = evaluate(data)
        result["seconds"] = round(time.monotonic() - start, 1)
        command = f"riskstream eval {name} --data {data or '../shared/data'}"
        merged = report.merge(results_dir / "quality.json", name, result, command)
        if make_plots:
            pngs = plot(result, results_dir / "quality")
            log.info("%s: %d plots under %s", name, len(pngs), results_dir / "quality")
        log.info("%s done in %.1f s", name, result["seconds"])
    (results_dir / "quality.md").write_text(report.markdown(merged))
    return merged
