"""PCA with Hotelling's T2 and the squared prediction error (SPE/Q): the classical process-
monitoring baseline (Chiang, Russell & Braatz). Control limits are empirical quantiles of the
statistics on the normal training rows; the score maps "at the limit" to 0.5.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from riskstream.models.base import FloatArray, finite_array
from riskstream.models.windows import fit_scaling, standardize


@dataclass(slots=True)
class PcaMonitor:
    mean: FloatArray
    std: FloatArray
    loadings: FloatArray  # [F, k]
    eigenvalues: FloatArray  # [k]
    t2_limit: float
    spe_limit: float

    name = "pca-t2-spe"

    @classmethod
    def fit(cls, rows: FloatArray, variance: float = 0.90, quantile: float = 0.99) -> PcaMonitor:
        rows = finite_array(rows, (None, None), "training rows")
        mean, std = fit_scaling(rows)
        z = standardize(rows, mean, std)
        cov = np.cov(z, rowvar=False)
        vals, vecs = np.linalg.eigh(cov)
        order = np.argsort(vals)[::-1]
        vals, vecs = np.maximum(vals[order], 1e-9), vecs[:, order]
        k = int(np.searchsorted(np.cumsum(vals) / vals.sum(), variance) + 1)
        monitor = cls(mean, std, vecs[:, :k].astype(np.float32), vals[:k].astype(np.float32), 1.0, 1.0)
        t2, spe = monitor.statistics(rows)
        monitor.t2_limit = float(np.quantile(t2, quantile))
        monitor.spe_limit = max(float(np.quantile(spe, quantile)), 1e-9)
        return monitor

    def statistics(self, rows: FloatArray) -> tuple[FloatArray, FloatArray]:
        z = standardize(finite_array(rows, (None, len(self.mean)), "rows"), self.mean, self.std)
        t = z @ self.loadings
        t2 = (t**2 / self.eigenvalues).sum(axis=1)
        spe = ((z - t @ self.loadings.T) ** 2).sum(axis=1)
        return t2.astype(np.float32), spe.astype(np.float32)

    def scores(self, rows: FloatArray) -> FloatArray:
        t2, spe = self.statistics(rows)
        ratio = np.maximum(t2 / self.t2_limit, spe / self.spe_limit)
        return np.asarray(ratio / (1.0 + ratio), dtype=np.float32)
