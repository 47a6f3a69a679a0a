"""What a family's builder returns: the circuit to simulate, the exact law to judge it by, and what its
energy accounting needs — three declarations kept apart (:class:`Built`, :class:`Theory`, :class:`Energy`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..spice.noise import NoisePlan


@dataclass(frozen=True)
class Supply:
    """A DC voltage source that powers the circuit: ``source`` (ngspice name, e.g. "vdd") between nodes.

    Its delivered power is −(v(plus) − v(minus))·i(source): ngspice's branch current flows into ``plus``.
    """

    source: str
    plus: str
    minus: str | None = None


@dataclass(frozen=True)
class DcReference:
    """A theory that needs the circuit's own DC characteristic: ``netlist`` (a ``.dc`` sweep, no noise)
    is run first, and ``theory(plot)`` turns its plot into (mean, cov, cdfs, info, potential) for the
    variables (potential: V/kT(x, t) as in :class:`Theory`)."""

    netlist: str
    theory: Callable[[Any], tuple]


@dataclass(frozen=True)
class Theory:
    """The exact stationary law of the variables (SI units: V, A), or NaN where there is none.

    mean (d,), cov (d, d): the moments every run is checked against. cdfs: exact marginal CDFs where the
    law has them beyond its moments (None elsewhere); each becomes a Kolmogorov–Smirnov check.
    reference: replaces mean/cov/cdfs when the law needs the circuit's own DC characteristic.
    potential: V/kT(x, t) on the variables for the Sekimoto heat (None: the Gaussian of mean/cov when it
    is known, else no heat line).
    """

    mean: np.ndarray
    cov: np.ndarray
    cdfs: tuple[Callable[[np.ndarray], np.ndarray] | None, ...] = ()
    reference: DcReference | None = None
    potential: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None

    @classmethod
    def unknown(cls, d: int) -> Theory:
        """No closed form for ``d`` variables: measured only (the family's own checks may still judge)."""
        return cls(np.full(d, np.nan), np.full((d, d), np.nan))


@dataclass(frozen=True)
class Energy:
    """What the energy table needs beyond the waveforms.

    supplies: the sources whose −V·I is the circuit's power draw. parameters: programmable values
    (couplings, biases) one write sets. visible: values read out per sample (None: every variable).
    kt_j: the energy of one kT of the sampled law [J] (the noise's effective temperature; None: the
    spec's energy.temperature_k).
    """

    supplies: tuple[Supply, ...] = ()
    parameters: int = 0
    visible: int | None = None
    kt_j: float | None = None


@dataclass(frozen=True)
class Built:
    """A built circuit: the PySpice circuit with its noise plan, the variables sampled, its time scales,
    and the :class:`Theory` and :class:`Energy` declarations the analysis judges it with (SI units)."""

    circuit: Any  # PySpice Circuit, noise sources placed (filesource attached by the netlister)
    noise: NoisePlan
    variables: tuple[str, ...]  # ngspice vectors sampled, in order: "v(n1)", "i(l1)", ...
    # the exact law, or a function computing it: a run calls it while ngspice runs (it may cost an
    # import of scipy or an O(n³) solve); read it with :meth:`law`
    theory: Theory | Callable[[], Theory]
    tau_fast_s: float  # fastest relaxation time (sets the automatic noise step)
    tau_slow_s: float  # slowest relaxation time (sets the automatic burn-in)
    energy: Energy = Energy()
    info: dict = field(default_factory=dict)  # compiled values worth reporting
    # family-specific measurements on the grid samples (n, d) with step dt: (metrics, checks); the
    # metrics may name "independent_samples", which the supply energy per sample is divided by
    analyse: Callable[[np.ndarray, float], tuple[dict, list]] | None = None
    # only R, C, L, independent and linear controlled sources: Newton converges in one iteration, so a
    # "timestep too small" is ngspice's time-step control, never convergence (spice.errors)
    linear: bool = False
    # files the netlist reads (.include), (name relative to the run folder, bytes): written beside it
    files: tuple[tuple[str, bytes], ...] = ()

    def law(self) -> Theory:
        """The exact law: :attr:`theory`, computed on first use when the builder handed a function."""
        if callable(self.theory):
            object.__setattr__(self, "theory", self.theory())
        return self.theory
