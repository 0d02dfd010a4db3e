"""PNG plots of signal, labels, scores and detections, one per series or clip."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _shade(ax: Any, labels: np.ndarray, color: str = "tab:red") -> None:
    edges = np.flatnonzero(np.diff(np.concatenate([[0], labels.astype(int), [0]])))
    for start, stop in zip(edges[::2], edges[1::2], strict=False):
        ax.axvspan(start, stop - 1, color=color, alpha=0.15, lw=0)


def nab(result: dict[str, Any], out: Path) -> list[Path]:
    plt, paths = _pyplot(), []
    for i, s in enumerate(result["_series"]):
        fig, (a1, a2) = plt.subplots(2, 1, figsize=(12, 5), sharex=True)
        labels = np.array(s.labels)
        a1.plot(s.values, lw=0.6, color="black")
        _shade(a1, labels)
        a1.set_title(f"{s.name}: value (red = NAB windows)")
        a2.plot(result["_scores"]["ours"][i], lw=0.6, label="riskstream score")
        a2.plot(result["_scores"]["baseline"][i], lw=0.4, alpha=0.5, label="windowed Gaussian")
        hits = np.flatnonzero(result["_scores"]["hits"][i])
        a2.scatter(hits, np.ones(len(hits)), marker="v", color="tab:red", label="detections", zorder=3)
        _shade(a2, labels)
        a2.legend(loc="upper left", fontsize=7)
        paths.append(_save(fig, out / f"nab_{Path(s.name).stem}.png"))
    return paths


def ped2(result: dict[str, Any], out: Path) -> list[Path]:
    plt = _pyplot()
    sc = result["_scores"]
    fig, axes = plt.subplots(len(sc["ours"]), 1, figsize=(10, 2.5 * len(sc["ours"])))
    for ax, clip, ours, base, y in zip(
        np.atleast_1d(axes), sorted(result["clips"]), sc["ours"], sc["baseline"], sc["labels"], strict=False
    ):
        ax.plot(ours, label="scene model score")
        ax.plot(base / max(float(base.max()), 1e-9), alpha=0.6, label="frame difference (scaled)")
        _shade(ax, y)
        ax.set_title(f"Ped2 test clip {clip} (red = labelled anomaly)")
        ax.legend(loc="upper left", fontsize=7)
    return [_save(fig, out / "ped2_scores.png")]


def urfd(result: dict[str, Any], out: Path) -> list[Path]:
    plt = _pyplot()
    sc, d = result["_scores"], result["detector"]
    fig, ax = plt.subplots(figsize=(10, 3))
    ax.plot(np.arange(1, len(sc["scores"]) + 1), sc["scores"], label="person-down score")
    ax.axvline(sc["fall_start"], color="tab:red", label="labelled fall start")
    for f in d["alert_frames"]:
        ax.axvline(f, color="tab:orange", ls="--")
    ax.axhline(d["threshold"]["threshold"], color="grey", lw=0.5)
    ax.set_xlabel("frame")
    ax.legend(loc="upper left", fontsize=7)
    ax.set_title(f"URFD fall-01: first alert {d['delay_s']} s after the fall starts")
    return [_save(fig, out / "urfd_fall01.png")]


def tamper(result: dict[str, Any], out: Path) -> list[Path]:
    """Detection rate and median time to detect per tamper, ours next to the baseline."""
    from riskstream.evaluation.tamper import KINDS

    plt = _pyplot()
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 3))
    x = np.arange(len(KINDS))
    for offset, key, label in ((-0.2, "detector", "riskstream tamper"), (0.2, "baseline", "video loss")):
        d = result[key]
        a1.bar(x + offset, [d[k]["detection_rate"] for k in KINDS], 0.4, label=label)
        a2.bar(x + offset, [d[k]["median_seconds_to_detect"] or 0.0 for k in KINDS], 0.4, label=label)
    for ax, title in ((a1, "share of clips detected"), (a2, "median seconds to detect")):
        ax.set_xticks(x, [k.replace("_", " ") for k in KINDS])
        ax.set_title(title)
    a1.legend(fontsize=7)
    fig.suptitle(f"Camera tamper on {result['dataset'].split(',')[0]} "
                 f"(false alarms on untouched clips: {result['detector']['untouched']['false_alarms']})")
    return [_save(fig, out / "tamper.png")]


def series_flags(name: str, result: dict[str, Any], out: Path) -> list[Path]:
    """SKAB / TEP: per file or run, detector and baseline scores with labels."""
    plt, paths = _pyplot(), []
    for key, (ours, base, y) in result["_scores"].items():
        fig, ax = plt.subplots(figsize=(10, 2.8))
        ax.plot(ours, lw=0.8, label="window autoencoder score")
        ax.plot(base, lw=0.6, alpha=0.6, label="PCA T2/SPE score")
        ax.axhline(0.5, color="grey", lw=0.5)
        _shade(ax, np.asarray(y))
        ax.set_title(f"{name} {key} (red = labelled anomaly)")
        ax.legend(loc="upper left", fontsize=7)
        paths.append(_save(fig, out / f"{name}_{key.replace('/', '_').replace('.csv', '')}.png"))
    return paths


def operating_curve(curve: dict[str, dict[str, dict[str, Any]]], out: Path) -> list[Path]:
    """NAB's standard score against false detections on the clean series, a point per threshold
    (see :func:`riskstream.evaluation.report.operating_curve`), one line per variant."""
    if not curve:
        return []
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 5))
    for label, points in curve.items():
        ths = sorted(points, key=float)
        xs, ys = [points[t]["clean"] for t in ths], [points[t]["standard"] for t in ths]
        (line,) = ax.plot(xs, ys, marker="o", label=label)
        for t, x, y in zip(ths, xs, ys, strict=True):
            ax.annotate(t, (x, y), textcoords="offset points", xytext=(4, 3), fontsize=7)
            if points[t].get("deployed"):
                ax.scatter([x], [y], s=180, marker="*", color=line.get_color(), zorder=3)
    ax.set_xlabel("false detections on the clean generated series")
    ax.set_ylabel("NAB standard score at that fixed threshold")
    ax.set_title("Operating curve: each point a threshold, the deployed one a star (goal: top left)")
    ax.legend(fontsize=8)
    return [_save(fig, out / "operating_curve.png")]


def _save(fig: Any, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    fig.clf()
    import matplotlib.pyplot as plt

    plt.close(fig)
    return path
