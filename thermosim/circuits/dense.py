"""Dense linear couplings written as ngspice elements, in several equivalent forms.

A coupling matrix K (n × n, zero diagonal, any signs) means: a current Σ_j K_ij·v(c_j) leaves node
``into[i]`` (towards ground), where v(c_j) is the voltage of control node ``ctrl[j]``. Every form below
adds exactly these currents, so the circuit's equations, its trajectories and its stationary law are the
same up to floating-point round-off; they differ only in how ngspice evaluates and stamps them:

* ``vccs``: one linear G element per nonzero K_ij (n(n−1) elements for a dense K).
* ``rpair``: K symmetric acting on its own nodes (``into == ctrl``): one resistor −1/K_ij per pair (any
  sign: negative where K_ij > 0) and one grounded resistor 1/Σ_j K_ij per node give back the diagonal
  share, n(n−1)/2 + n elements. The rc precision compiler writes this form (circuits/rc.py).
* ``bsum``: one B source per row, ``I = K_i1·v(c_1) + …`` (ngspice differentiates it symbolically; the
  derivatives are constants, but every Newton iteration evaluates n + n trees per row).
* ``summer``: one XSPICE ``summer`` code model per row, vector input, current output: one device per row
  whose partial derivatives are its gains.
* ``poly``: one ``G … POLY(n)`` per row (ngspice translates it into an XSPICE ``spice2poly`` instance).
* ``eig``: K = Q·Λ·Qᵀ (K symmetric) through r = rank K summing nodes: node a_k (1 Ω to ground) carries
  Σ_j Q_jk·v(c_j) by G elements, and G elements g = λ_k·Q_ik feed it back. Exact at any rank; it saves
  elements only when K has low rank (r ≪ n), and its entries carry the round-off of an eigensolver.

``thermosim bench coupling`` (:mod:`thermosim.report.coupling`) measures their cost per time step against
n: resistor pairs are the fastest, then G elements; the others are slower at every n.
"""

from __future__ import annotations

import numpy as np

FORMS = ("vccs", "rpair", "bsum", "summer", "poly", "eig")
# what the quartic and staged builders write (their couplings read gated copies into sense nodes, where
# resistor pairs do not apply): the fastest of the other forms, docs/results.md "Dense coupling"
DEFAULT = "vccs"


def num(v) -> str:
    """A number as ngspice reads it (a plain float repr, never numpy's)."""
    return repr(float(v))


def couple(
    k: np.ndarray,
    into: list[str],
    ctrl: list[str],
    name: str,
    form: str | None = None,
    ref: str = "0",
) -> str:
    """Netlist lines adding the currents Σ_j k_ij·v(ctrl_j) leaving each node into_i (module docstring).

    ``name`` makes element and model names unique; ``ref`` is the control voltages' reference node
    (ground by default). Rows and columns that are all zero write nothing. Cost O(nonzeros) text."""
    k, form = np.asarray(k, float), form or DEFAULT
    if form not in FORMS:
        raise ValueError(f"unknown coupling form {form!r}; one of {', '.join(FORMS)}")
    if form == "vccs":
        return "".join(
            f"G{name}{i + 1}_{j + 1} {into[i]} 0 {ctrl[j]} {ref} {num(k[i, j])}\n"
            for i, j in zip(*np.nonzero(k), strict=True)
        )
    if form == "eig":
        return _eig(k, into, ctrl, name, ref)
    if form == "rpair":
        return _rpair(k, into, ctrl, name, ref)
    out = []
    for i in np.flatnonzero(np.any(k, axis=1)):
        cols = np.flatnonzero(k[i])
        if form == "bsum":
            v = (lambda j: f"v({ctrl[j]})") if ref == "0" else (lambda j: f"(v({ctrl[j]})-v({ref}))")
            out.append(f"B{name}{i + 1} {into[i]} 0 I=" + "+".join(f"{num(k[i, j])}*{v(j)}" for j in cols))
        elif form == "summer":
            ports = " ".join(f"%vd({ctrl[j]},{ref})" if ref != "0" else f"%v({ctrl[j]})" for j in cols)
            gains = " ".join(num(k[i, j]) for j in cols)
            out.append(f"a{name}{i + 1} [{ports}] %i({into[i]}) {name}sum{i + 1}")
            out.append(f".model {name}sum{i + 1} summer(in_gain=[{gains}] out_gain=1.0)")
        else:  # poly: the constant term, then one linear coefficient per control pair
            pairs = " ".join(f"{ctrl[j]} {ref}" for j in cols)
            coefs = " ".join(num(k[i, j]) for j in cols)
            out.append(f"G{name}{i + 1} {into[i]} 0 POLY({len(cols)}) {pairs} 0 {coefs}")
    return "".join(line + "\n" for line in out)


def _eig(k: np.ndarray, into: list[str], ctrl: list[str], name: str, ref: str) -> str:
    if not np.array_equal(k, k.T):
        raise ValueError("the eig form needs a symmetric coupling matrix")
    lam, q = np.linalg.eigh(k)
    keep = np.abs(lam) > 1e-12 * max(np.abs(lam).max(initial=0.0), 1e-300)
    lam, q = lam[keep], q[:, keep]
    out = []
    for a in range(len(lam)):
        node = f"{name}a{a + 1}"
        out.append(f"R{name}a{a + 1} {node} 0 1.0")  # v(a) = Σ_j Q_ja·v(c_j): current −Q_ja·v leaves it
        out += [
            f"G{name}a{a + 1}_{j + 1} {node} 0 {ctrl[j]} {ref} {num(-q[j, a])}"
            for j in np.flatnonzero(q[:, a])
        ]
        out += [
            f"G{name}b{i + 1}_{a + 1} {into[i]} 0 {node} 0 {num(lam[a] * q[i, a])}"
            for i in np.flatnonzero(q[:, a])
        ]
    return "".join(line + "\n" for line in out)


def _rpair(k: np.ndarray, into: list[str], ctrl: list[str], name: str, ref: str) -> str:
    if not np.array_equal(k, k.T) or into != ctrl or ref != "0":
        raise ValueError("the rpair form needs a symmetric K acting on its own nodes")
    n = len(k)
    out = []
    for i in range(n):
        s = float(k[i].sum())
        if s != 0:
            out.append(f"R{name}{i + 1} {into[i]} 0 {num(1.0 / s)}")
        for j in i + 1 + np.flatnonzero(k[i, i + 1 :]):
            out.append(f"R{name}{i + 1}_{j + 1} {into[i]} {into[j]} {num(-1.0 / k[i, j])}")
    return "".join(line + "\n" for line in out)
