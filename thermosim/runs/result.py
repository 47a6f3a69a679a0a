"""The typed result of one run (:class:`Result`), as the Python API returns it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..analysis.stats import Check


@dataclass(frozen=True)
class Result:
    """One run: the samples, the exact law they are judged against, the verdicts, energy and metrics.

    Attributes
    ----------
    name, family, seed : the spec's name and family (family None for a foreign netlist) and the noise seed.
    variables : the ngspice vectors sampled, in column order ("v(n1)", "i(l1)", ...).
    samples : (n, d) array in SI units (V, A), on the noise grid after the burn-in.
    times_s : (n,) sample times [s].
    mean_theory, cov_theory : (d,), (d, d) exact stationary moments in SI units, or None where the
        circuit has no closed-form law (then it is measured only) or, for cov_theory, above 64 variables.
    checks : the pass/fail verdicts, each |measured − expected| ≤ k·SE with SE from the effective sample
        size (:class:`thermosim.analysis.stats.Check`).
    energy : the energy table, one dict per line (term, value, unit, per, source).
    metrics : everything ``metrics.json`` holds (statistics, costs, time scales, ngspice version, ...).
    out : the folder the run was written to, or None when it was kept in memory.
    files : the files written there (netlist, samples.npz, metrics.json, figures), by name.
    """

    name: str
    family: str | None
    seed: int | None
    variables: tuple[str, ...]
    samples: np.ndarray
    times_s: np.ndarray
    mean_theory: np.ndarray | None
    cov_theory: np.ndarray | None
    checks: list[Check]
    energy: list[dict]
    metrics: dict
    out: Path | None = None
    files: dict[str, Path] = field(default_factory=dict)
    # the exact marginal CDFs of the variables where the law has them beyond its moments (quartic, cmos);
    # in memory only (ts.plot draws their density), () for a Result read back from files
    cdfs: tuple = field(default=(), repr=False)

    @property
    def passed(self) -> bool | None:
        """True when every check passed, False when one failed, None for a run measured only (no exact law
        to judge it by, e.g. a nonlinear netlist: see ``has_theory``)."""
        return self.metrics.get("passed", all(c.passed for c in self.checks))

    @property
    def has_theory(self) -> bool:
        """True when the run was judged against an exact law (``cov_theory`` is kept only up to 64
        variables; the variances always are)."""
        return self.metrics.get("var_theory") is not None

    @classmethod
    def from_metrics(
        cls, metrics: dict, samples: np.ndarray, times_s: np.ndarray, out: Path | None, cdfs=()
    ) -> Result:
        """Assemble a Result from a run's metrics dict and arrays (and the folder they were written to)."""
        cov = metrics.get("cov_theory")
        mean = metrics.get("mean_theory")
        files = {}
        if out is not None:
            files = {p.name: p for p in sorted(Path(out).iterdir()) if not p.name.startswith(".")}
        return cls(
            name=metrics["circuit"],
            family=metrics.get("family"),
            seed=metrics.get("seed"),
            variables=tuple(metrics["variables"]),
            samples=samples,
            times_s=times_s,
            mean_theory=None if mean is None else np.asarray(mean, float),
            cov_theory=None if cov is None else np.asarray(cov, float),
            checks=[Check(**c) for c in metrics.get("checks", [])],
            energy=list(metrics.get("energy") or []),
            metrics=metrics,
            out=None if out is None else Path(out),
            files=files,
            cdfs=tuple(cdfs or ()),
        )

    def __repr__(self) -> str:
        n, d = self.samples.shape
        verdict = f"{sum(c.passed for c in self.checks)}/{len(self.checks)} checks passed"
        if self.passed is None:
            verdict = "measured only (no exact law)"
        where = f", out={str(self.out)!r}" if self.out else ""
        head = f"Result({self.name!r}, family={self.family!r}, seed={self.seed}"
        return f"{head}, samples={n}×{d}, {verdict}{where})"
