"""``knn_likelihood``: riskstream's learned streaming detector on one sensor's values
(``sensor.anomaly``); see :class:`riskstream.models.streaming.KnnLikelihood`."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from riskstream.detectors.plugin import Context, Plugin, SpecBase
from riskstream.events import Severity


class KnnLikelihoodSpec(SpecBase):
    type: Literal["knn_likelihood"] = "knn_likelihood"
    embed: int = Field(8, ge=2, description="Values per sub-sequence.")
    memory: int = Field(3000, ge=100, description="Sub-sequences kept as the memory of normal.")
    quarantine: int = Field(200, ge=0, description="Points a flagged value waits before it may be learned.")
    ranks: Literal["independent", "overlapping"] = Field(
        "independent",
        description="independent: fires on short runs of surprises (NAB's scoring rewards it; more "
        "false detections on clean noisy series); overlapping: the quiet variant, the rank "
        "statistic corrected for overlapping sub-sequences and combined with the size evidence.")


def build(spec: KnnLikelihoodSpec, ctx: Context) -> Any:
    from riskstream.models.streaming import KnnLikelihood

    return KnnLikelihood(embed=spec.embed, memory=spec.memory, quarantine=spec.quarantine,
                         ranks=spec.ranks)


PLUGIN = Plugin(KnnLikelihoodSpec, build, feeds="value", event="sensor.anomaly", severity=Severity.WARNING,
                places=frozenset({"sensor"}), gated=False)
