"""``riskstream eval``: run one dataset (or all), write results, plots and the Markdown table."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from riskstream.evaluation import generated_series, nab, ped2, plots, report, skab, tamper, tep, urfd
from riskstream.evaluation.datapath import DataMissing, DataUnreadable

log = logging.getLogger(__name__)

DATASETS: dict[str, tuple[Callable[[Any], dict[str, Any]], Callable[[dict[str, Any], Path], list[Path]]]] = {
    "nab": (nab.evaluate, plots.nab),
    "skab": (
        lambda data: skab.evaluate(data, shipped_model=_shipped("skab")),
        lambda r, out: plots.series_flags("skab", r, out),
    ),
    "tep": (tep.evaluate, lambda r, out: plots.series_flags("tep", r, out)),
    "ped2": (lambda data: ped2.evaluate(data, model_dir=_shipped("ped2")), plots.ped2),
    "urfd": (urfd.evaluate, plots.urfd),
    "tamper": (tamper.evaluate, plots.tamper),
    "generated": (lambda _data: generated_series.evaluate(), lambda _r, _out: []),
}


def _shipped(dataset: str) -> Path:
    """The shipped artifact a dataset's evaluation scores (and records its figures in)."""
    from riskstream.models.artifacts import resolve_model

    return resolve_model(_CARDS[dataset][0])


def run(names: list[str], data: Path | None, results_dir: Path, make_plots: bool = True) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for name in names:
        evaluate, plot = DATASETS[name]
        log.info("evaluating %s ...", name)
        start = time.monotonic()
        try:
            result = evaluate(data)
        except DataMissing:
            raise
        except (OSError, ValueError, KeyError, IndexError) as exc:
            raise DataUnreadable(f"{name}: the data under {data or 'the default data root'} cannot be "
                                 f"evaluated: {type(exc).__name__}: {exc}") from exc
        result["seconds"] = round(time.monotonic() - start, 1)
        command = f"riskstream eval {name} --data {data or '../shared/data'}"
        merged = report.merge(results_dir / "quality.json", name, result, command)
        if make_plots:
            pngs = plot(result, results_dir / "quality")
            log.info("%s: %d plots under %s", name, len(pngs), results_dir / "quality")
        _record_in_card(name, result, command)
        log.info("%s done in %.1f s", name, result["seconds"])
    if make_plots and {"nab", "generated"} & set(names):  # either half of the curve changed
        plots.operating_curve(report.operating_curve(merged), results_dir / "quality")
    (results_dir / "quality.md").write_text(report.markdown(merged))
    return merged


# The shipped artifact each evaluation speaks for, and what its figures mean for that card.
_CARDS = {
    "ped2": ("scene-ped2@3", "this artifact (speed model chosen by cross-validation on the 16 training "
             "clips, trained on all of them) on every UCSD Ped2 test clip present"),
    "skab": (
        "sensor-skab@2",
        "the same recipe (5 cross-fitted window autoencoders, out-of-fold calibration) trained "
        "per experiment on its first 400 rows, SKAB's protocol; online_level: run with "
        "level_half_life 120; this artifact is trained on anomaly-free.csv",
    ),
    "tep": ("sensor-tep@2", "this recipe trained on d00.dat, scored on d00_te, d01_te, d04_te"),
}


def _record_in_card(name: str, result: dict[str, Any], command: str) -> None:
    from riskstream.models.artifacts import resolve_model
    from riskstream.models.card import CardError, set_evaluation

    if name not in _CARDS:
        return
    ref, meaning = _CARDS[name]
    kept = ("detector", "online_level", "baseline", "previous", "dataset")
    figures = {k: v for k, v in report.public(result).items() if k in kept}
    try:
        set_evaluation(resolve_model(ref), {"what": meaning, "command": command, **figures})
    except CardError as exc:
        log.warning("could not record figures in %s: %s", ref, exc)
