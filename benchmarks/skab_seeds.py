"""SKAB detection quality over training seeds: the spread of F1 / false-alarm / missed-alarm
rates when only the seed of the autoencoders changes.

One seed's figure can be luck: with one network per experiment and a threshold from 80
held-out rows, seeds 0-5 gave F1 0.73-0.80. This runs ``riskstream eval skab``'s evaluation
once per seed (same data, same protocol) and reports each seed, the mean, the standard
deviation and the worst seed, for the served mode and the online-level mode.

    .venv/bin/python -m benchmarks.skab_seeds --seeds 6 --data ../shared/data
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from benchmarks.common import RESULTS, report, save
from riskstream.evaluation import report as report_file
from riskstream.evaluation import skab
from riskstream.evaluation.metrics import seed_spread

MODES = {"detector": "training level (served)", "online_level": "following the operating level"}
RATES = ("f1", "far", "mar")


def summarise(per_seed: list[dict[str, Any]], mode: str) -> dict[str, Any]:
    """Mean, standard deviation and worst seed of each rate for one mode."""
    return {rate: seed_spread([r[mode][rate] for r in per_seed], worst_is_low=rate == "f1")
            for rate in RATES}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", type=int, default=6, help="seeds 0 .. N-1 (default 6)")
    parser.add_argument("--data", type=Path, default=None, help="data root (default ../shared/data)")
    args = parser.parse_args()
    per_seed = []
    for seed in range(args.seeds):
        start = time.monotonic()
        r = skab.evaluate(args.data, seed=seed)
        row = {"seed": seed, **{m: {k: r[m][k] for k in RATES} for m in MODES}}
        per_seed.append(row)
        d = row["detector"]
        print(f"  seed {seed}: F1 {d['f1']} FAR {d['far']:.1%} MAR {d['mar']:.1%} "
              f"({time.monotonic() - start:.0f} s)", flush=True)
    figures = {
        "protocol": "SKAB, first 400 rows train, rest test, point-wise on `anomaly`",
        "seeds": args.seeds,
        "per_seed": per_seed,
        **{m: summarise(per_seed, m) for m in MODES},
    }
    rows = []
    for mode, label in MODES.items():
        s = figures[mode]
        cells = (f"{k} {s[k]['mean']} ± {s[k]['sd']} (worst {s[k]['worst']})" for k in RATES)
        rows.append((label, " / ".join(cells)))
    report(f"SKAB over seeds 0-{args.seeds - 1}", rows)
    print(f"\nwrote {save('skab_seeds', figures)}")
    # The spread also goes into the quality table, next to the single-seed SKAB figure.
    data = args.data or "../shared/data"
    command = f".venv/bin/python -m benchmarks.skab_seeds --seeds {args.seeds} --data {data}"
    merged = report_file.merge(RESULTS / "quality.json", "skab_seeds", figures, command)
    (RESULTS / "quality.md").write_text(report_file.markdown(merged))


if __name__ == "__main__":
    main()
