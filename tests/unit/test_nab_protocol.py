"""NAB's protocol pieces of the evaluation: the threshold search, what is said to be scored, and
NAB's published scores normalised over exactly the files scored here."""

from __future__ import annotations

from pathlib import Path

from riskstream.evaluation import nab


def test_the_threshold_search_is_finer_than_the_old_grid() -> None:
    peak = 0.6137

    def total(th: float) -> float:  # a score that peaks between the old grid's points
        return 100.0 - 1000.0 * abs(th - peak)

    coarse = max(total(0.30 + 0.025 * i) for i in range(27))  # the old 0.30..0.95 grid
    score, th = nab.best_threshold(total)
    assert abs(th - peak) < 1e-4 and score > coarse + 5


def test_the_search_reaches_the_ends_exactly() -> None:
    assert nab.best_threshold(lambda th: 1.0 if th >= 1.0 else 0.0) == (1.0, 1.0)


def series(name: str, windows: int) -> nab.Series:
    return nab.Series(name, [], [], [(i, i) for i in range(windows)])


def test_what_was_scored_is_named_by_its_categories() -> None:
    one = [series("realKnownCause/a.csv", 2), series("realKnownCause/b.csv", 1)]
    assert nab.describe(one) == "NAB realKnownCause (2 files, 3 windows)"
    two = [*one, series("realTweets/c.csv", 4)]
    assert nab.describe(two) == "NAB 2 categories (3 files, 7 windows)"


def test_published_scores_count_only_the_files_scored(tmp_path: Path) -> None:
    results = tmp_path / "nab" / "results" / "det"
    results.mkdir(parents=True)
    rows = ["Detector,Profile,File,Threshold,Score,TP,TN,FP,FN,Total_Count",
            "det,standard,realKnownCause/a.csv,0.5,1.0,0,0,0,0,0",
            "det,standard,realTweets/other.csv,0.5,-50.0,0,0,0,0,0"]
    (results / "det_standard_scores.csv").write_text("\n".join(rows) + "\n")
    got = nab.published_on_same_files(tmp_path, [series("realKnownCause/a.csv", 1)])
    assert got == {"det": {"standard": 100.0}}  # the unscored file's -50 is not in it
    assert nab.published_on_same_files(tmp_path, [series("realKnownCause/a.csv", 1),
                                                  series("realKnownCause/z.csv", 1)]) == {}


def test_leave_one_file_out_never_lets_a_file_choose_its_own_threshold() -> None:
    """File a needs a high threshold (a 0.6 false alarm), file b a low one (its window peaks at
    0.6): tuned on both, one threshold serves them; held out, each gets the other's choice."""
    def one(name: str, peak: float, false_alarm: float) -> tuple[nab.Series, list[float]]:
        scores = [0.0] * 1000
        scores[610:613], scores[300:303] = [peak] * 3, [false_alarm] * 3  # runs: the filter waits 3
        return nab.Series(name, [], [0.0] * 1000, [(600, 650)]), scores

    (a, sa), (b, sb) = one("t/a.csv", 0.9, 0.6), one("t/b.csv", 0.6, 0.0)
    tuned = nab.swept([a, b], [sa, sb])["standard"]
    held_out = nab.leave_one_file_out([a, b], [sa, sb])["standard"]
    assert held_out["score"] < tuned["score"]
    assert held_out["thresholds"][1] > 0.6  # b is scored at what a alone prefers, and misses


def test_the_table_never_prints_none_for_scores_nab_did_not_publish() -> None:
    """A corpus NAB's published results do not cover exactly (a file of one's own, a partial
    copy) printed "NAB's own run of it: None" and "Numenta HTM None on these files"."""
    import json

    from riskstream.evaluation.report import markdown

    results = Path(__file__).resolve().parents[2] / "benchmarks" / "results" / "quality.json"
    r = json.loads(results.read_text())["nab"]
    r["published_same_files"] = {}
    table = markdown({"nab": r})
    assert "None" not in table and "not published for exactly these files" in table


def test_the_operating_curve_loses_the_window_only_past_its_score() -> None:
    """A window peaking at 0.7 is found up to 0.7 and lost above; a false alarm at 0.6 costs
    only below 0.6 (the filter's detections, as deployed, at each threshold)."""
    scores = [0.0] * 1000
    scores[610:613], scores[300:303] = [0.7] * 3, [0.6] * 3  # runs: the filter waits 3
    curve = nab.operating_curve([nab.Series("t/a.csv", [], [0.0] * 1000, [(600, 650)])], [scores])
    assert min(map(float, curve)) >= 0.5  # only where learning is the same
    assert [curve[k]["windows_detected"] for k in ("0.55", "0.66", "0.7", "0.72")] == [1, 1, 1, 0]
    assert [curve[k]["false_positive_rows"] for k in ("0.55", "0.6", "0.63")] == [1, 1, 0]
    assert curve["0.63"]["standard"] > curve["0.6"]["standard"] > curve["0.72"]["standard"]
