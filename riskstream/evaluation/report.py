"""Results files: ``quality.json`` (merged per dataset) and the Markdown table next to it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from riskstream.evaluation.operating_curve import key


def public(result: dict[str, Any]) -> dict[str, Any]:
    """The result without the private arrays kept for plotting (keys starting with ``_``)."""
    return {k: v for k, v in result.items() if not k.startswith("_")}


def merge(path: Path, dataset: str, result: dict[str, Any], command: str) -> dict[str, Any]:
    current = json.loads(path.read_text()) if path.is_file() else {}
    current[dataset] = {**public(result), "command": command}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(current, indent=2, default=str) + "\n")
    return current


def _row(name: str, ours: str, baseline: str, goal: str) -> str:
    return f"| {name} | {ours} | {baseline} | {goal} |"


def _published(nab: dict[str, Any], profile: str) -> str:
    same = nab.get("published_same_files", {}).get("numenta", {}).get(profile)
    whole = {"standard": "70.1", "reward_low_FP_rate": "63.1", "reward_low_FN_rate": "74.3"}[profile]
    text = (f"Numenta HTM {same} on these files ({whole} over NAB's whole corpus)" if same is not None
            else f"Numenta HTM {whole} over NAB's whole corpus (not published for exactly these files)")
    return text + ("; ARTime 74.9 whole corpus" if profile == "standard" else "")


def _own_run(published: float | None) -> str:
    return f"; NAB's own run of it: {published}" if published is not None else ""


def _with_interval(figure: dict[str, Any]) -> str:
    """"44.15 (files resampled, 90 %: 30.2-58.1)" where the result has an interval."""
    iv = figure.get("interval_90")
    return f"{figure['score']}" + (f" (files resampled, 90 %: {iv[0]} to {iv[1]})" if iv else "")


def _difference(iv: dict[str, Any] | None) -> str:
    if not iv:
        return ""
    return ("minus the default, 90 % over resampled files: fixed "
            f"{iv['fixed'][0]} to {iv['fixed'][1]}, leave one file out "
            f"{iv['leave_one_file_out'][0]} to {iv['leave_one_file_out'][1]}")


def _swept_baseline(nab: dict[str, Any]) -> str:
    sw = nab["baseline"].get("swept_nab_protocol")
    if not sw:
        return ""
    return "windowed Gaussian " + " / ".join(
        str(sw[p]["score"]) for p in ("standard", "reward_low_FP_rate", "reward_low_FN_rate"))


def markdown(results: dict[str, Any]) -> str:
    lines = [
        "# Detection quality",
        "",
        "Written by `riskstream eval` (see `quality.json` for every figure "
        "and the command that produced it).",
        "",
        "| dataset / figure | riskstream | baseline (same run) | goal / published |",
        "|---|---|---|---|",
    ]
    if "nab" in results:
        r = results["nab"]
        for p in ("standard", "reward_low_FP_rate", "reward_low_FN_rate"):
            lines.append(
                _row(
                    f"{r['dataset'].split(' (')[0]}, {p} (normalised over its "
                    f"{r['detector'][p]['windows']} windows)",
                    _with_interval(r["detector"][p]),
                    f"{r['baseline'][p]['score']} (windowed Gaussian"
                    + _own_run(r.get("published_same_files", {}).get("windowedGaussian", {}).get(p)) + ")",
                    _published(r, p),
                )
            )
        sw = r["detector"].get("swept_nab_protocol")
        if sw:
            pub = r.get("published_same_files", {})
            lines.append(
                _row(
                    "NAB, NAB's protocol (threshold tuned per profile on the labels, as in NAB's table), "
                    "standard / low FP / low FN",
                    " / ".join(
                        str(sw[p]["score"]) for p in ("standard", "reward_low_FP_rate", "reward_low_FN_rate")
                    ),
                    _swept_baseline(r),
                    ("same files: " if pub else "NAB's detectors not published for exactly these files")
                    + "; ".join(
                        f"{d} "
                        + " / ".join(
                            str(pub[d][p]) for p in ("standard", "reward_low_FP_rate", "reward_low_FN_rate")
                        )
                        for d in ("numenta", "relativeEntropy", "knncad")
                        if d in pub
                    ),
                )
            )
        loo = r["detector"].get("leave_one_file_out")
        if loo:
            spread = loo["standard"]["thresholds"]
            lines.append(_row(
                "NAB, leave one file out (each file at the threshold tuned on the others), "
                "standard / low FP / low FN",
                " / ".join(str(loo[p]["score"]) for p in ("standard", "reward_low_FP_rate",
                                                          "reward_low_FN_rate"))
                + (f"; standard over resampled files, 90 %: {loo['standard']['interval_90'][0]} to "
                   f"{loo['standard']['interval_90'][1]}" if "interval_90" in loo["standard"] else ""),
                "",
                f"the honest reading of NAB's protocol; standard thresholds chosen "
                f"{min(spread)}-{max(spread)}"))
        q = r.get("quiet_variant")
        if q:
            lines.append(_row(
                f"NAB, the quiet variant ({q['name']}: runs of the newest value's surprise given "
                "its context), fixed threshold / NAB's protocol / leave one file out, standard",
                f"{q['standard']['score']} / {q['swept_nab_protocol']['standard']['score']} / "
                f"{q['leave_one_file_out']['standard']['score']}",
                _difference(q.get("minus_default_interval_90")),
                "an operator's choice: fewer false detections (see the generated series)"))
    if "skab" in results:
        d, b = results["skab"]["detector"], results["skab"]["baseline"]
        online = results["skab"].get("online_level")
        lines.append(
            _row(
                "SKAB F1 / FAR / MAR (5 cross-fitted networks, training level)",
                f"{d['f1']} / {d['far']:.1%} / {d['mar']:.1%}",
                f"{b['f1']} / {b['far']:.1%} / {b['mar']:.1%} (PCA T2+SPE)",
                "F1 >= 0.80, FAR <= 15% (Conv-AE 0.78 / 13.6%)",
            )
        )
        if online:
            lines.append(
                _row(
                    "SKAB, the same model following the operating level (half-life 120 s)",
                    f"{online['f1']} / {online['far']:.1%} / {online['mar']:.1%}",
                    "",
                    "",
                )
            )
        shipped = results["skab"].get("shipped_model")
        if shipped:
            lines.append(
                _row(
                    f"SKAB, the {shipped['name']}",
                    f"{shipped['f1']} / {shipped['far']:.1%} / {shipped['mar']:.1%}",
                    "",
                    "a window model is the site's and the day's: train it on the site's normal data",
                )
            )
    if "skab_seeds" in results:
        r = results["skab_seeds"]
        d = r["detector"]
        lines.append(
            _row(
                f"SKAB over training seeds 0-{r['seeds'] - 1}: F1 / FAR mean ± sd (worst seed)",
                f"{d['f1']['mean']} ± {d['f1']['sd']} ({d['f1']['worst']}) / "
                f"{d['far']['mean']:.1%} ± {d['far']['sd']:.1%} ({d['far']['worst']:.1%})",
                "",
                "one seed's figure is not the recipe's",
            )
        )
    if "tep" in results:
        d, b = results["tep"]["detector"], results["tep"]["baseline"]
        for run in sorted((r for r in d if r.startswith("fault_")), key=lambda r: int(r[6:])):
            lines.append(
                _row(
                    f"TEP {run.replace('_', ' ')}: detection rate / false alarms (rows 1-160)",
                    f"{d[run]['detection_rate']:.1%} / {d[run]['false_alarm_rate']:.1%}",
                    f"{b[run]['detection_rate']:.1%} / {b[run]['false_alarm_rate']:.1%} (PCA T2+SPE)",
                    "report",
                )
            )
        lines.append(
            _row(
                "TEP normal run d00_te: false-alarm rate",
                f"{d['normal']['false_alarm_rate']:.1%}",
                f"{b['normal']['false_alarm_rate']:.1%}",
                "low",
            )
        )
        if "all_normal_rows" in d:
            lines.append(
                _row(
                    f"TEP all {d['all_normal_rows'].get('rows', '')} normal rows (d00_te + "
                    "rows 1-160 of each fault run): false-alarm rate",
                    f"{d['all_normal_rows']['false_alarm_rate']:.1%}",
                    f"{b['all_normal_rows']['false_alarm_rate']:.1%}",
                    "low",
                )
            )
        spread = results["tep"].get("seeds")
        if spread:
            def cell(key: str) -> str:
                v = spread[key]
                return f"{v['mean']:.1%} ± {v['sd']:.1%} (worst {v['worst']:.1%})"
            faults = sorted((k for k in spread if k.startswith("fault_")), key=lambda k: int(k[6:]))
            lines.append(_row(
                f"TEP over training seeds 0-{spread['seeds'] - 1}: detection rate of "
                + ", ".join(f.replace("_", " ") for f in faults) + "; false alarms on all normal rows",
                "; ".join(cell(f) for f in faults) + "; " + cell("all_normal_false_alarm_rate"),
                "", "one seed's figure is not the recipe's"))
    if "ped2" in results:
        d, b = results["ped2"]["detector"], results["ped2"]["baseline"]
        clips = results["ped2"]["clips"]
        lines.append(
            _row(
                f"UCSD Ped2 frame AUC over all {len(clips)} test clips present",
                f"{d['frame_auc']}",
                f"{b['frame_auc']} (global frame difference)",
                ">= 95 (future-frame prediction 95.4)",
            )
        )
        prev = results["ped2"].get("previous")
        if prev:
            lines.append(_row(f"UCSD Ped2 frame AUC, the previous artifact {prev['name']} in the same run",
                              f"{prev['frame_auc']}", "", "reference"))
        for clip, c in sorted(clips.items()):
            defined = c["auc"] is not None
            before = f"; {prev['name'] if prev else 'previous'}: {c['previous_auc']}" if c.get(
                "previous_auc") is not None else ""
            lines.append(
                _row(
                    f"UCSD Ped2 clip {clip}: AUC ({c['anomalous_frames']}/{c['frames']} "
                    "frames anomalous)",
                    f"{c['auc']}" if defined else "n/a (every frame anomalous)",
                    f"{c['baseline_auc']}{before}" if defined else "n/a",
                    "report",
                )
            )
        cv = results["ped2"].get("settings_cv")
        if cv:
            ch = cv["chosen"]
            runner = max((v for k, v in cv["mean_auc"].items() if not k.startswith(ch["family"])),
                         default=None)
            lines.append(
                _row(
                    "UCSD Ped2 model by 4-fold CV on the training clips (people cut out and pasted "
                    "as cyclist, skater, cart): CV AUC of the choice / best of the other family",
                    f"{ch['family']}, cell={ch['cell']}, top_k={ch['top_k']}: {ch['mean_auc']}",
                    f"{runner}",
                    "shipped: the choice",
                )
            )
            flt = cv.get("filter")
            if flt:
                ch = flt["chosen"]
                one = flt["grid"].get(f"quantile={ch['quantile']},persistence=1")
                lines.append(_row(
                    "UCSD Ped2 detection filter by the same CV (calibration quantile, frames in a row "
                    f"at 0.5): held-out normal clips' detections ({flt['normal_frames']} frames) / "
                    f"pasted objects found of {flt['pasted_objects']}",
                    f"quantile {ch['quantile']}, {ch['persistence']} in a row: "
                    f"{ch['false_detections']} / {ch['found']}",
                    f"1 frame: {one['false_detections']} / {one['found']}" if one else "",
                    "shipped: the plugin's default"))
        if "clips_detected" in d:
            lines.append(_row(
                "UCSD Ped2 at the plugin's default filter: clips whose anomaly raised a "
                "detection / detections among normal frames",
                f"{d['clips_detected']}/{len(clips)} / {d['false_detections']}", "", "all / 0"))
        lines.append(
            _row(
                "UCSD Ped2 analysed frames/s on one core (resize, optical flow, model)",
                f"{d['analysed_fps_one_core']:.0f}",
                "",
                ">= 200",
            )
        )
    if "urfd" in results:
        d = results["urfd"]["detector"]
        lines.append(
            _row(
                "URFD fall-01: delay to first alert / alerts before the fall",
                f"{d['delay_s']} s / {d['alerts_before_fall']}",
                "",
                "<= 1 s / 0",
            )
        )
    if "tamper" in results:
        lines += _tamper_rows(results["tamper"])
    if "generated" in results:
        d, b = results["generated"]["detector"], results["generated"]["baseline"]
        lines.append(_row(
            f"Univariate, {results['generated']['dataset']}: false detections on the clean "
            "series / injected anomalies found",
            f"{d['false_detections_on_clean_series']} / {d['injected_detected']}"
            + (f" (missed: {', '.join(d['missed'])})" if d.get("missed") else ""),
            f"{b['false_detections_on_clean_series']} / {b['injected_detected']} (windowed Gaussian)",
            "0 / all"))
        q = results["generated"].get("quiet_variant")
        if q:
            lines.append(_row(
                f"Univariate, the same series, the quiet variant ({q['name']})",
                f"{q['false_detections_on_clean_series']} / {q['injected_detected']}"
                + (f" (missed: {', '.join(q['missed'])})" if q.get("missed") else ""),
                "", "0 / all"))
        if "clean_over_seeds" in results["generated"]:
            lines.append(_seeds_row(results["generated"]["clean_over_seeds"]))
        if "injected_over_seeds" in results["generated"]:
            lines.append(_injected_seeds_row(results["generated"]["injected_over_seeds"]))
        if "long_run_clean" in results["generated"]:
            lines.append(_long_run_row(results["generated"]["long_run_clean"]))
    return "\n".join(lines + operating_curve_table(results)) + "\n"


CURVE_VARIANTS = (("detector", "ours", "default"), ("quiet_variant", "quiet", "quiet variant"))


def operating_curve(results: dict[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    """Per variant and threshold, NAB's figures beside the generated series' (both evaluations
    must have run with the curve): {"default": {"0.66": {..., "deployed": True}}}."""
    nab, gen = results.get("nab", {}), results.get("generated", {})
    if not all(k in gen for k in ("clean_over_seeds", "injected_over_seeds", "long_run_clean")):
        return {}
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for in_nab, in_gen, label in CURVE_VARIANTS:
        curve = nab.get(in_nab, {}).get("operating_curve", {})
        clean = gen["clean_over_seeds"][in_gen].get("operating_curve", {})
        settled = gen["long_run_clean"][in_gen].get("operating_curve_per_10000_rows", {})
        found = gen["injected_over_seeds"][in_gen].get("operating_curve", {})
        deployed = key(nab.get(in_nab, {}).get("threshold", {}).get("threshold", -1))
        out[label] = {th: {**curve[th], "clean": clean[th], "settled": settled[th], "found": found[th],
                           "deployed": th == deployed}
                      for th in curve if th in clean and th in settled and th in found}
    return out if all(out.values()) else {}


def operating_curve_table(results: dict[str, Any]) -> list[str]:
    curve = operating_curve(results)
    if not curve:
        return []
    gen = results["generated"]
    windows = results["nab"]["detector"]["standard"]["windows"]
    head = (f"NAB standard at this fixed threshold (windows of {windows}, false-positive rows) / "
            f"false detections on the {gen['clean_over_seeds']['series']} clean series / per "
            f"10,000 settled rows of the long ones / injected found of {gen['injected_over_seeds']['cases']}")
    lines = ["", "## Operating curve of the univariate detector", "",
             "What raising the threshold buys and costs, from the same runs as above (thresholds "
             "at or above `learn_below`, where the scores do not change with it; the deployed one "
             "in bold).",
             "", f"| threshold | default: {head} | quiet variant: the same |", "|---|---|---|"]

    def cell(label: str, th: str) -> str:
        c = curve[label].get(th)
        if c is None:
            return ""
        text = (f"{c['standard']} ({c['windows_detected']}, {c['false_positive_rows']}) / "
                f"{c['clean']} / {c['settled']} / {c['found']}")
        return f"**{text}**" if c["deployed"] else text

    for th in sorted({*curve["default"], *curve["quiet variant"]}, key=float):
        lines.append(f"| {th} | {cell('default', th)} | {cell('quiet variant', th)} |")
    return lines


def _seeds_row(r: dict[str, Any]) -> str:
    def cell(who: str) -> str:
        d = r[who]
        shapes = ", ".join(f"{k} {v}" for k, v in d["per_shape"].items() if v)
        return (f"{d['false_detections']} in {d['series_with_any']} series ({shapes or 'none'}); "
                f"{d['after_memory_full']} after row {r['memory_full_at_row']}")
    return _row(
        f"Univariate, the {len(r['ours']['per_shape'])} full-length clean shapes drawn with noise "
        f"seeds {r['seeds']} ({r['series']} series of {r['rows_each']} rows): false detections, "
        "by shape; how many once the memory is full",
        f"{cell('ours')}; quiet variant: {cell('quiet')}",
        f"{cell('baseline')} (windowed Gaussian)", "0")


def _long_run_row(r: dict[str, Any]) -> str:
    def cell(who: str) -> str:
        rates = ", ".join(f"{k} {v}" for k, v in r[who]["per_10000_rows"].items())
        return f"{r[who]['false_detections']} ({rates} per 10,000 rows)"
    return _row(
        f"Univariate, long clean series ({r['series']}: {', '.join(r['ours']['per_shape'])}, seeds "
        f"{r['seeds']}, {r['rows_each']} rows each): false detections from row {r['counted_from_row']}, "
        "once the detector has settled",
        f"{cell('ours')}; quiet variant: {cell('quiet')}", f"{cell('baseline')} (windowed Gaussian)", "0")


def _injected_seeds_row(r: dict[str, Any]) -> str:
    def cell(who: str) -> str:
        d = r[who]
        missed = ", ".join(f"{k} {v}" for k, v in d["missed"].items())
        return f"{d['found']} of {r['cases']}" + (f" (missed, in how many draws: {missed})" if missed else "")
    return _row(
        f"Univariate, the injected anomalies with the noise drawn with seeds {r['seeds']}: found",
        f"{cell('ours')}; quiet variant: {cell('quiet')}", f"{cell('baseline')} (windowed Gaussian)", "all")


def _tamper_rows(r: dict[str, Any]) -> list[str]:
    d, b = r["detector"], r["baseline"]

    def cell(x: dict[str, Any]) -> str:
        med = x["median_seconds_to_detect"]
        return f"{x['detection_rate']:.0%}" + (f", median {med} s (max {x['max_seconds_to_detect']} s)"
                                                if med is not None else "")

    rows = [_row(f"Camera tamper {kind.replace('_', ' ')}: clips detected, time to detect",
                 cell(d[kind]), f"{cell(b[kind])} (video loss)", "report")
            for kind in ("covered", "defocused", "view_shifted", "frozen")]
    rows.append(_row(f"Camera tamper: false alarms on the untouched clips ({r['dataset']})",
                     f"{d['untouched']['false_alarms']} ({d['untouched']['false_alarms_per_hour']}/h)",
                     f"{b['untouched']['false_alarms']}", "0"))
    return rows
