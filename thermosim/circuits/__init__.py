"""Circuit builders: one plain function per family, registered under the family's name.

A builder takes its frozen params dataclass and the noise step and returns a :class:`Built`: the PySpice
circuit with its noise placed, which node voltages are the sampled variables, and the exact theory to
compare them with. Specs only name a family and its settings.
"""

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
    variables (potential: V/kT(x, t) as in :class:`Built`)."""

    netlist: str
    theory: Callable[[Any], tuple]


@dataclass(frozen=True)
class Built:
    """A built circuit plus everything the analysis needs to judge it (SI units)."""

    circuit: Any  # PySpice Circuit, noise sources placed (filesource attached by the netlister)
    noise: NoisePlan
    variables: tuple[str, ...]  # ngspice vectors sampled, in order: "v(n1)", "i(l1)", ...
    mean_theory: np.ndarray  # SI units of each variable (V or A)
    cov_theory: np.ndarray  # exact stationary covariance (V², V·A, A²)
    tau_fast_s: float  # fastest relaxation time (sets the automatic noise step)
    tau_slow_s: float  # slowest relaxation time (sets the automatic burn-in)
    info: dict = field(default_factory=dict)  # compiled values worth reporting
    # exact marginal CDFs (SI units) where the theory has them beyond the moments, None elsewhere:
    # each becomes a Kolmogorov–Smirnov check
    cdfs: tuple[Callable[[np.ndarray], np.ndarray] | None, ...] = ()
    supplies: tuple[Supply, ...] = ()  # the sources whose −V·I is the circuit's power draw
    # family-specific measurements on the grid samples (n, d) with step dt: (metrics, checks); the
    # metrics may name "independent_samples", which the supply energy per sample is divided by
    analyse: Callable[[np.ndarray, float], tuple[dict, list]] | None = None
    reference: DcReference | None = None  # replaces mean/cov/cdfs theory when given
    # energy accounting: programmable values (couplings, biases) a write sets; the energy of one kT unit
    # of the sampled law (J; the noise's effective temperature); V/kT(x, t) on the variables for the
    # Sekimoto heat (None: the Gaussian of the theory when it is known, else no heat line)
    parameters: int = 0
    visible: int | None = None  # values read out per sample (default: every variable)
    kt_j: float | None = None
    potential: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None
    # energy accounting: programmable values (couplings, biases) a write sets; the energy of one kT unit
    # of the sampled law (J; the noise's effective temperature); V/kT(x, t) on the variables for the
    # Sekimoto heat (None: the Gaussian of the theory when it is known, else no heat line)
    parameters: int = 0
    kt_j: float | None = None
    potential: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None
    # only R, C, L, independent and linear controlled sources: Newton converges in one iteration, so a
    # "timestep too small" is ngspice's time-step control, never convergence (spice.errors)
    linear: bool = False


@dataclass(frozen=True)
class Family:
    params: type
    build: Callable[[Any], Built]
    metrics: tuple[str, ...] = ()  # scalar metrics the family's ``analyse`` adds (sweepable by name)


FAMILIES: dict[str, Family] = {}


def register(
    name: str, params: type, metrics: tuple[str, ...] = ()
) -> Callable[[Callable[[Any], Built]], Callable[[Any], Built]]:
    """Decorator: register ``build(params) -> Built`` under the family ``name``."""

    def deco(build: Callable[[Any], Built]) -> Callable[[Any], Built]:
        FAMILIES[name] = Family(params=params, build=build, metrics=metrics)
        return build

    return deco


from . import cmos, quartic, rc, rlc  # noqa: E402,F401  (register the families)
