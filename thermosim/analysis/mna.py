"""Exact stationary law of a linear netlist with Johnson noise: stochastic modified nodal analysis.

Unknowns x = (node voltages, branch currents of V, E, H and L elements). Kirchhoff's current law at each
node and each branch's own equation give the descriptor system

    M ẋ = A x + u + B ξ,      ξ white, E[ξ ξᵀ] = Q δ(t),  Q = diag(2kT/R) (two-sided, per resistor)

with M = blockdiag(Maxwell capacitance matrix, diag(L)), u the independent sources and B the resistors'
incidence. Rows where M vanishes are algebraic (resistive nodes, source branches); when that block is
invertible (index 1) they are eliminated, leaving an ODE for the dynamic coordinates z₁,

    ż₁ = F z₁ + f + G ξ,

whose stationary covariance solves the Lyapunov equation F Σ + Σ Fᵀ + G Q Gᵀ = 0 (scipy; exact for any
drift, normal or not) and whose mean solves A x̄ = −u. A variable that depends on ξ directly (a node with
no capacitance) has a white-noise part and no finite variance: it is reported, not given a number.
Cost O(n³) in the number of unknowns.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..physics import K_B
from ..spice.parse import Element

_REL_TOL = 1e-12  # relative size below which a capacitance eigenvalue counts as zero


class NotLinear(ValueError):
    """The netlist has no exact linear stationary law; the message says why."""


@dataclass(frozen=True)
class LinearLaw:
    names: tuple[str, ...]  # every unknown: "v(n1)", ..., "i(v1)", "i(l1)"
    mean: np.ndarray  # (n,) stationary mean [V, A]
    cov: np.ndarray  # (n, n) stationary covariance; NaN rows/columns where ``white``
    white: tuple[str, ...]  # unknowns with a white-noise part (no finite variance)
    tau_fast_s: float  # 1 / the largest |eigenvalue| of the drift
    tau_slow_s: float  # 1 / the smallest |Re eigenvalue|

    def select(self, variables: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """(mean, cov) of ``variables`` (names as in :attr:`names`)."""
        idx = [self.names.index(v) for v in variables]
        return self.mean[idx], self.cov[np.ix_(idx, idx)]


def linear_law(elements: list[Element], temperature_k: float) -> LinearLaw:
    """The exact stationary mean and covariance of every unknown of a linear netlist whose resistors
    carry Johnson noise at ``temperature_k`` (K). Raises :class:`NotLinear` when an element is outside
    R C L G E F H V I, when the algebraic part is singular (no unique DC state) or when the circuit has
    no stationary state (a mode that does not decay)."""
    from scipy import linalg

    nodes = sorted({n for e in elements for n in e.nodes if n != "0"})
    branches = [e.name for e in elements if e.kind in "vehl"]
    names = [f"v({n})" for n in nodes] + [f"i({b})" for b in branches]
    index = {n: i for i, n in enumerate(nodes)} | {("i", b): len(nodes) + k for k, b in enumerate(branches)}
    size = len(names)
    m_mat, a_mat, u = np.zeros((size, size)), np.zeros((size, size)), np.zeros(size)
    noise_cols, noise_psd = [], []

    def at(node):
        return None if node == "0" else index[node]

    def add(mat, row, col, value):
        if row is not None and col is not None:
            mat[row, col] += value

    for e in elements:
        if e.kind not in "rclgefhvi" or e.value is None:
            raise NotLinear(f"{e.name} is not a linear element thermosim models")
        p, n = (at(x) for x in e.nodes[:2])
        if e.kind in "rc":
            mat, val = (a_mat, -1.0 / e.value) if e.kind == "r" else (m_mat, e.value)
            add(mat, p, p, val), add(mat, n, n, val), add(mat, p, n, -val), add(mat, n, p, -val)
            if e.kind == "r" and e.noisy and e.value > 0:  # a negative resistor is active: no Johnson noise
                col = np.zeros(size)
                if p is not None:
                    col[p] = 1.0
                if n is not None:
                    col[n] = -1.0
                noise_cols.append(col)
                noise_psd.append(2 * K_B * temperature_k / e.value)
        elif e.kind == "g":
            cp, cn = at(e.nodes[2]), at(e.nodes[3])
            for row, s in ((p, -1.0), (n, 1.0)):
                add(a_mat, row, cp, s * e.value), add(a_mat, row, cn, -s * e.value)
        elif e.kind == "i":
            if p is not None:
                u[p] -= e.value
            if n is not None:
                u[n] += e.value
        elif e.kind == "f":
            ctl = _control(e, index)
            add(a_mat, p, ctl, -e.value), add(a_mat, n, ctl, e.value)
        else:  # v, e, h, l: a branch current unknown and its own equation
            row = index[("i", e.name)]
            add(a_mat, p, row, -1.0), add(a_mat, n, row, 1.0)  # the branch current leaves n⁺, enters n⁻
            add(a_mat, row, p, 1.0), add(a_mat, row, n, -1.0)
            if e.kind == "l":
                m_mat[row, row] = e.value  # L di/dt = v⁺ − v⁻
            elif e.kind == "v":
                u[row] = -e.value
            elif e.kind == "e":
                add(a_mat, row, at(e.nodes[2]), -e.value), add(a_mat, row, at(e.nodes[3]), e.value)
            else:
                a_mat[row, _control(e, index)] -= e.value
    b_mat = np.array(noise_cols).T if noise_cols else np.zeros((size, 0))
    q = np.diag(noise_psd) if noise_psd else np.zeros((0, 0))

    # dynamic coordinates: the capacitance matrix's range (eigenvectors) and the inductor currents
    n_v = len(nodes)
    lam_c, vec_c = np.linalg.eigh(m_mat[:n_v, :n_v]) if n_v else (np.zeros(0), np.zeros((0, 0)))
    basis = np.zeros((size, size))
    basis[:n_v, :n_v] = vec_c
    basis[n_v:, n_v:] = np.eye(size - n_v)
    lam = np.concatenate([lam_c, np.diag(m_mat)[n_v:]])
    scale_c = lam_c.max(initial=0.0)
    dyn = np.concatenate([lam_c > _REL_TOL * scale_c, np.diag(m_mat)[n_v:] > 0])
    if not dyn.any():
        raise NotLinear("the circuit has no capacitor or inductor: its voltages are white noise")
    at_ = basis.T @ a_mat @ basis
    bt = basis.T @ b_mat
    d, g = np.flatnonzero(dyn), np.flatnonzero(~dyn)
    a22 = at_[np.ix_(g, g)]
    if g.size and np.linalg.cond(a22) > 1e13:
        raise NotLinear("the resistive part has no unique solution (a floating node or a loop of sources)")
    solve22 = (
        (lambda rhs: np.linalg.solve(a22, rhs)) if g.size else (lambda rhs: np.zeros((0,) + rhs.shape[1:]))
    )
    red = at_[np.ix_(d, g)]
    inv_l = 1.0 / lam[d]
    drift = inv_l[:, None] * (at_[np.ix_(d, d)] - red @ solve22(at_[np.ix_(g, d)]))
    gain = inv_l[:, None] * (bt[d] - red @ solve22(bt[g]))
    eig = np.linalg.eigvals(drift)
    fastest = np.abs(eig).max()
    if eig.real.max() >= -1e-9 * fastest:
        raise NotLinear(
            "the circuit has no stationary state (a mode that does not decay, e.g. a node "
            "connected only through capacitors)"
        )
    sigma = linalg.solve_continuous_lyapunov(drift, -(gain @ q @ gain.T))
    sigma = (sigma + sigma.T) / 2
    # back to the unknowns: x = P z₁ + (offset) − basis₂ A₂₂⁻¹ B̃₂ ξ
    proj = basis[:, d] - basis[:, g] @ solve22(at_[np.ix_(g, d)])
    white_map = -basis[:, g] @ solve22(bt[g]) if g.size else np.zeros((size, b_mat.shape[1]))
    cov = proj @ sigma @ proj.T
    try:
        mean = np.linalg.solve(a_mat, -u)
    except np.linalg.LinAlgError:
        raise NotLinear("the circuit has no unique DC state") from None
    white_power = np.einsum("ij,jk,ik->i", white_map, q, white_map) * fastest if q.size else np.zeros(size)
    white = white_power > 1e-9 * np.maximum(np.abs(np.diag(cov)), 1e-300)
    cov[white, :] = np.nan
    cov[:, white] = np.nan
    return LinearLaw(
        names=tuple(names),
        mean=mean,
        cov=cov,
        white=tuple(nm for nm, w in zip(names, white, strict=True) if w),
        tau_fast_s=float(1.0 / fastest),
        tau_slow_s=float(1.0 / np.abs(eig.real).min()),
    )


def _control(e: Element, index: dict) -> int:
    key = ("i", e.control)
    if e.control is None or key not in index or not e.control.startswith("v"):
        raise NotLinear(f"{e.name}: its controlling source '{e.control}' is not a voltage source here")
    return index[key]
