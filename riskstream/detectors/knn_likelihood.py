"""``knn_likelihood``: riskstream's learned streaming detector on one sensor's values
(``sensor.anomaly``); see :class:`riskstream.models.streaming.KnnLikelihood`."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from riskstream.config.thresholds import ThresholdConfig
from riskstream.detectors.plugin import Context, Plugin, SpecBase
from riskstream.events import Severity

# The default filter per ``ranks``: learn only below a tail probability of 1e-5 (score 0.5) and
# fire at 0.66 (about 1e-6.6), so values that are merely suspicious stay out of the memory while
# only the clearest fire; one detection per incident (cooldown 300 readings). 0.66 is the highest
# threshold that loses none of the generated series' anomalies found at 0.5 (false detections on
# the clean ones 12 -> 5); NAB's leave-one-file-out picks 0.686 in every fold, beside it.
# Three readings in a row at the threshold before firing, but a score of 1 (a reading far beyond
# the learned range, a certainty) at once: a lone spike never makes a run. Persistence 1-5 with
# firing at once all find every generated anomaly; 3 halves the false detections on the clean
# series (32 -> 16) and leave-one-file-out on NAB picks it in 5 of 7 folds (standard), 7 of 7
# (low FP); 4 loses a NAB window (66.0 -> 55.2); v6's size z: 11 on those series, NAB 66.6.
# The conditional (quiet) variant takes the same
# filter, chosen for the default and not searched again. The overlapping variant, the quiet one
# before, loses NAB windows above 0.5 (36.7 -> 29.5 at 0.66), so it keeps 0.5.
_LEARN_BELOW_HALF = ThresholdConfig(threshold=0.66, learn_below=0.5, cooldown=300, min_consecutive=3,
                                    fire_at_once=1.0)
DEFAULT_FILTER = {
    "independent": _LEARN_BELOW_HALF,
    "conditional": _LEARN_BELOW_HALF,
    "overlapping": ThresholdConfig(threshold=0.5, cooldown=300),
}


class KnnLikelihoodSpec(SpecBase):
    type: Literal["knn_likelihood"] = "knn_likelihood"
    embed: int = Field(8, ge=2, description="Values per sub-sequence.")
    memory: int = Field(3000, ge=100, description="Sub-sequences kept as the memory of normal.")
    quarantine: int = Field(200, ge=0, description="Points a flagged value waits before it may be learned.")
    ranks: Literal["independent", "conditional", "overlapping"] = Field(
        "independent",
        description="independent: fires on short runs of surprises (NAB's scoring rewards it; more "
        "false detections on clean noisy series); conditional: the quiet variant, runs of the "
        "newest value's surprise given its context plus the overlapping evidence (fewer false "
        "detections on clean series, 8 against 11 on the 80 generated ones and 0.4 against 1.8 "
        "per 10,000 settled readings of noise; fewer NAB windows); overlapping: the "
        "rank statistic corrected for overlapping sub-sequences and combined with the size "
        "evidence (the quiet variant before conditional, which beats it on every figure).")
    time_of_day: Literal["auto", "off"] = Field(
        "auto",
        description="auto: where the readings repeat daily (autocorrelation one day apart above "
        "0.5), the reading's time of day (device time, UTC) is part of what must match the "
        "memory, and only what is at least half a day old counts as a match (earlier days at "
        "this hour); off: values only.")
    beyond_range: float | None = Field(
        0.25, ge=0.0,
        description="A reading beyond the range of the values learned so far by more than this "
        "fraction of that range scores 1 at once (a young memory reads every surprise as small; "
        "0.25 is the smallest that found every injected anomaly of the generated series without "
        "adding a false detection on the clean ones; Numenta's NAB detector uses 0.05); null: off.")

    @model_validator(mode="before")
    @classmethod
    def _default_filter_for_its_ranks(cls, data: Any) -> Any:
        ranks = data.get("ranks", "independent") if isinstance(data, dict) else None
        if isinstance(data, dict) and "threshold" not in data and ranks in DEFAULT_FILTER:
            return {**data, "threshold": DEFAULT_FILTER[ranks]}
        return data  # an unknown ``ranks`` is refused by its own field


def build(spec: KnnLikelihoodSpec, ctx: Context) -> Any:
    from riskstream.models.streaming import KnnLikelihood

    return KnnLikelihood(embed=spec.embed, memory=spec.memory, quarantine=spec.quarantine,
                         ranks=spec.ranks, time_of_day=spec.time_of_day,
                         beyond_range=spec.beyond_range)


PLUGIN = Plugin(KnnLikelihoodSpec, build, feeds="sample", event="sensor.anomaly", severity=Severity.WARNING,
                places=frozenset({"sensor"}), gated=False)
