"""Calibrated, reproducible white noise for ngspice transient runs.

Mechanism (chosen by measurement, see README "Noise mechanism"): every noisy node n has a grounded
capacitor C_n whose *bottom plate* is driven by a voltage W_n(t) instead of ground. By the Norton
equivalence, a voltage W in series with C is a current C·dW/dt in parallel with C, so the node sees the
injected current exactly. W_n is a Brownian charge path divided by C_n, generated in numpy from an
explicit seed and streamed to ngspice's XSPICE ``filesource`` through a FIFO.

Why this and not TRNOISE/TRRANDOM: those set a breakpoint per noise sample and ngspice then cuts the step
to 0.1·NT (≈4.4 accepted points per sample); TRNOISE is also seeded from the process id. filesource sets
no breakpoints, so with the transient step fixed to the noise step (LTE control relaxed, see
``TRAN_OPTIONS``) ngspice takes exactly one step per noise sample, and the charge each step injects is the
exact Brownian increment. For a linear circuit the trapezoidal rule then has *exactly* the continuous
Lyapunov covariance at the step points, for any step h: with M=(I+hA/2)⁻¹(I−hA/2) the discrete
Lyapunov equation Σ = MΣMᵀ + h(I+hA/2)⁻¹D(I+hA/2)⁻ᵀ reduces algebraically to AΣ + ΣAᵀ = D.
So there is no discrete-noise correction to apply to covariances; the step only limits how well the
dynamics (autocorrelation) are resolved.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from ..physics import johnson_current_psd

# Fixed-step transient: the LTE tolerances are relaxed so ngspice never shortens a step on its own
# (a truncation-error estimate is meaningless on a white-noise-driven path); Newton failures still cut.
TRAN_OPTIONS = "trtol=1e6 chgtol=1"
# ngspice 39 ends a transient when its clock (a running sum of the steps) is within MINBREAK of t_stop, but
# treats a clock within 100 ULPs of t_stop as sitting ON the final breakpoint, whose next step is then
# 0.1 × (distance to the next breakpoint) = 0: "Timestep too small; timestep = 0" after the last point. Its
# default MINBREAK, 1e-10 × the step, is narrower than 100 ULPs once a run has more than ~5000 steps, and
# the clock's rounding drift (≈ 1e-4 of a step per 1e6 steps) lands in that gap now and then. A MINBREAK of
# 1e-13 × t_stop (≥ 4.5 × 100 ULPs for any t_stop, ≤ 2e-5 of a step for 2e8 steps) closes the gap.
MINBREAK_OF_STOP = 1e-13
NGSPICE_MINBREAK_OF_STEP = 1e-10  # ngspice's own default (10 × delmin, delmin = 1e-11 × the step)
# ngspice 39 starts a transient with a step of tstep/100 and doubles it; with tstep = 100/128 of the
# noise step the ramp lands exactly on t = 1 noise step, so every later step is on the noise grid.
TSTEP_FRACTION = 100 / 128
MODEL_NAME = "thermosim_noise"
DRIVE_PREFIX = "nz_"
# ngspice's filesource reads each line into a 512-byte buffer and silently treats the rest of a longer
# line as the next line (checked in its source, file_source/cfunc.mod). Each file therefore carries at
# most MAX_PORTS columns: the step index (≤ 11 characters) plus ≤ 16 characters per value stays < 512.
MAX_PORTS = 24
MAX_VALUE = 10**14  # |w| beyond this would need more than 16 characters


def tran_options(t_stop_s: float, step_s: float) -> str:
    """The ``.options`` of a fixed-step noise transient of ``t_stop_s`` with steps of ``step_s`` (s).

    ``TRAN_OPTIONS`` plus ``minbreak = max(1e-13·t_stop, 1e-10·step)`` (s): the end of the run then
    never falls between ngspice's two end-of-run tolerances (see ``MINBREAK_OF_STOP``). For runs shorter
    than 1000 steps this is ngspice's own default. Cost O(1).
    """
    minbreak = max(MINBREAK_OF_STOP * t_stop_s, NGSPICE_MINBREAK_OF_STEP * step_s)
    return f"{TRAN_OPTIONS} minbreak={minbreak!r}"


@dataclass(frozen=True)
class NoiseSource:
    """An independent white current of two-sided PSD ``psd`` (A²/Hz) flowing into ``plus``.

    ``minus`` is the node it flows out of (None = ground), as for a resistor's Johnson noise.
    """

    plus: str
    minus: str | None
    psd: float
    label: str = ""


@dataclass
class NoisePlan:
    """Collects the noise of a circuit while a builder places its elements.

    Call :meth:`capacitor` for each grounded capacitor of a node that may receive noise, :meth:`johnson`
    or :meth:`white` for each source, then :meth:`attach` once to add the ``filesource`` to the circuit.
    """

    nodes: list[str] = field(default_factory=list)
    caps_f: list[float] = field(default_factory=list)
    sources: list[NoiseSource] = field(default_factory=list)
    file_stem: str = "noise"
    # where a current injected at a circuit node goes, for nodes that are not themselves in ``nodes``:
    # (node of ``nodes``, sign) pairs; () for a node held at a fixed voltage (see spice.thermal)
    routes: dict[str, tuple[tuple[str, float], ...]] = field(default_factory=dict)

    def capacitor(self, circuit, name: str, node: str, c_f: float) -> None:
        """Place capacitor ``name`` from ``node`` to the noise drive node (ground for DC)."""
        if node in self.nodes:
            raise ValueError(f"node {node!r} already has a noise-drive capacitor")
        circuit.C(name, node, DRIVE_PREFIX + node, c_f)
        self.nodes.append(node)
        self.caps_f.append(float(c_f))

    def johnson(self, plus: str, minus: str | None, r_ohm: float, temperature_k: float) -> None:
        """Johnson noise of a resistor between ``plus`` and ``minus`` (None = ground) at T."""
        self.white(plus, minus, johnson_current_psd(r_ohm, temperature_k), f"R{r_ohm:g}@{temperature_k:g}K")

    def white(self, plus: str, minus: str | None, psd: float, label: str = "") -> None:
        """A white current of two-sided PSD ``psd`` (A²/Hz) between two nodes."""
        if psd < 0:
            raise ValueError(f"noise PSD must be >= 0, got {psd}")
        for n in (plus, minus):
            if n is not None and n not in self.nodes and n not in self.routes:
                raise ValueError(f"noise at node {n!r} needs a capacitor placed with NoisePlan.capacitor")
        self.sources.append(NoiseSource(plus, minus, float(psd), label))

    def incidence(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """B (nodes × sources) as (node, source, value) triples sorted by node then source: +1 where a
        source's current enters a node, −1 where it leaves (through ``routes`` where a node passes its
        charge on); duplicates summed, zeros dropped (a source from a node to itself cancels). At most
        a few entries per source, so a 4096-node network costs kilobytes. numpy only: a run builds its
        netlist before scipy is loaded."""
        index = {n: i for i, n in enumerate(self.nodes)}
        rows, cols, vals = [], [], []
        for k, s in enumerate(self.sources):
            for node, sign in ((s.plus, 1.0), (s.minus, -1.0)):
                for port, weight in self.routes.get(node, ((node, 1.0),)) if node is not None else ():
                    rows.append(index[port])
                    cols.append(k)
                    vals.append(sign * weight)
        n_src = max(1, len(self.sources))
        keys, where = np.unique(
            np.array(rows, np.int64) * n_src + np.array(cols, np.int64), return_inverse=True
        )
        summed = np.bincount(where, weights=np.array(vals, float), minlength=len(keys))
        nonzero = summed != 0
        return keys[nonzero] // n_src, keys[nonzero] % n_src, summed[nonzero]

    def node_psd(self) -> np.ndarray:
        """Two-sided PSD matrix S = B·diag(s)·Bᵀ (A²/Hz, dense nodes × nodes) of the currents injected at
        the nodes. Cost O(sources + nodes²)."""
        from scipy import sparse

        r, c, v = self.incidence()
        b = sparse.csr_matrix((v, (r, c)), shape=(len(self.nodes), len(self.sources)))
        return (b @ sparse.diags([s.psd for s in self.sources]) @ b.T).toarray()

    def mixing(self, noise_step_s: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(node, source, value) triples of the nodes × sources matrix of drive-voltage increments ΔW per
        unit standard normal of each source (V): B_nk·√(s_k·NT) / C_n; sorted by node then source."""
        sd = np.sqrt(np.array([s.psd for s in self.sources]) * noise_step_s)
        r, c, v = self.incidence()
        return r, c, v * sd[c] / np.array(self.caps_f)[r]

    def quanta(self, noise_step_s: float) -> np.ndarray:
        """Per-node resolution of the noise file (V): 2⁻³⁰ of the rms increment of W_n per step.

        The file stores W_n as integers in these units (fast to write and to parse); rounding changes
        an increment's variance by q²/12, a relative 1e-19.
        """
        r, _, v = self.mixing(noise_step_s)
        return _quanta(r, v, len(self.nodes))

    def groups(self) -> list[range]:
        """Node index ranges, one per filesource instance and noise file (≤ MAX_PORTS each)."""
        return [range(i, min(i + MAX_PORTS, len(self.nodes))) for i in range(0, len(self.nodes), MAX_PORTS)]

    def files(self) -> list[str]:
        """The noise file names the netlist reads, one per group."""
        n = len(self.groups())
        return [f"{self.file_stem}.noise"] if n == 1 else [f"{self.file_stem}.{g}.noise" for g in range(n)]

    def attach(self, circuit, noise_step_s: float) -> None:
        """Add the XSPICE filesources driving the capacitor bottom plates; time column is in steps."""
        quanta = self.quanta(noise_step_s)
        for g, (idx, name) in enumerate(zip(self.groups(), self.files(), strict=True)):
            ports = " ".join(DRIVE_PREFIX + self.nodes[i] for i in idx)
            zeros = " ".join("0" for _ in idx)
            scale = " ".join(repr(float(quanta[i])) for i in idx)
            model = f"{MODEL_NAME}{g}"
            circuit.raw_spice += (
                f"a{model} %v([{ports}]) {model}\n"
                f'.model {model} filesource(file="{name}" amploffset=[{zeros}] amplscale=[{scale}] '
                f"timeoffset=0 timescale={noise_step_s!r} timerelative=false amplstep=false)\n"
            )


def _quanta(rows: np.ndarray, vals: np.ndarray, n_nodes: int) -> np.ndarray:
    """:meth:`NoisePlan.quanta` from the mixing triples' rows and values."""
    rms = np.sqrt(np.bincount(rows, weights=vals * vals, minlength=n_nodes))
    q = np.where(rms > 0, rms * 2.0**-30, 1.0)
    return np.array([sig12(v) for v in q])  # the netlist shows them


def sig12(x: float) -> float:
    """``x`` to 12 significant digits: values derived from eigenvalues or square roots differ in their last
    bits between BLAS builds, and a netlist (so every sample) must not."""
    return float(f"{x:.12g}")


SMALL_PLAN = 256  # noise entries mixed by numpy (a chunk's temporary: 8192 × 256 values, 16 MB)


def stream_blocks(
    plan: NoisePlan, noise_step_s: float, n_steps: int, seed: int, chunk: int = 8192
) -> Iterator[list[bytes]]:
    """Text of the noise files of ``plan`` (ASCII bytes), block by block: each item holds one chunk per file
    (``plan.files()``) covering the same steps; lines ``k w_1 … w_m`` for k = 0 … n_steps + 2.

    W_n(k·NT) = (1/C_n)·Σ_j B_nj·Q_j(k·NT) with Q_j independent Brownian charges, Var ΔQ_j = s_j·NT,
    written as integers w_n = W_n / q_n (``NoisePlan.quanta``; the filesource scales them back).
    Deterministic in ``seed`` (numpy PCG64); two steps past t_stop keep the source defined at the end.
    Cost: O(n_steps · (sources + nodes)), ~25 ns per line of one value to format (:func:`format_lines`);
    memory O(chunk · nodes).
    """
    # no BLAS: the same bits whatever the machine's thread settings. Each node's increment sums its
    # sources in source order (the triples' order); a small plan with numpy at once, a large one with a
    # sparse product (the same sums in the same order), whose scipy import its long run amortises
    rows, cols, vals = plan.mixing(noise_step_s)  # the quanta from the same triples, not made again
    scaled = vals / _quanta(rows, vals, len(plan.nodes))[rows]
    # each noisy node's first triple (the rows are sorted; np.unique would import numpy.ma: 8 ms before
    # the first noise line)
    starts = np.flatnonzero(np.diff(rows, prepend=-1))
    nodes = rows[starts]
    if len(scaled) <= SMALL_PLAN:

        def mix(z: np.ndarray) -> np.ndarray:
            out = np.zeros((len(z), len(plan.nodes)))
            if len(scaled):
                out[:, nodes] = np.add.reduceat(z[:, cols] * scaled, starts, axis=1)
            return out
    else:
        from scipy import sparse

        mix_t = sparse.csr_matrix((scaled, (cols, rows)), shape=(len(plan.sources), len(plan.nodes)))

        def mix(z: np.ndarray) -> np.ndarray:
            return np.asarray(z @ mix_t)

    rng = np.random.default_rng(seed)
    total = n_steps + 3
    w = np.zeros(len(plan.nodes), dtype=np.int64)
    groups = plan.groups()
    for start in range(0, total, chunk):
        m = min(chunk, total - start)
        z = rng.standard_normal((m, len(plan.sources)))
        if start == 0:
            z[0] = 0.0  # W(0) = 0
        path = w + np.cumsum(np.rint(mix(z)).astype(np.int64), axis=0)
        w = path[-1]
        if np.abs(w).max(initial=0) >= MAX_VALUE:
            raise ValueError("noise path outgrew the filesource line format; use fewer noise steps per run")
        k = np.arange(start, start + m)
        yield [format_lines(k, path[:, g.start : g.stop]) for g in groups]


# The digits of 0000…9999, 00…99 and 0…9 as ASCII, read as little-endian integers of 4, 2 and 1 bytes
_DIGITS = ((np.arange(10_000)[:, None] // np.array([1000, 100, 10, 1])) % 10 + ord("0")).astype(np.uint8)
_DIGITS4 = _DIGITS.view("<u4").ravel()
_DIGITS2 = np.ascontiguousarray(_DIGITS[:100, 2:]).view("<u2").ravel()
_DIGITS1 = np.ascontiguousarray(_DIGITS[:10, 3])
_SIGNS = np.frombuffer(b"   -", dtype="<u2")  # "  " before a value ≥ 0, " -" before a negative one


def format_lines(k: np.ndarray, values: np.ndarray) -> bytes:
    """Lines ``k v_1 … v_c`` (ASCII) of the integers ``k`` (m,) ≥ 0 and ``values`` (m, c), |v| < 10¹⁴.

    Every field has one width within the call: ``k`` zero-padded to the digits of its largest value; each
    value after two characters, a space and its sign ("-" or a second space), zero-padded to the digits of
    the largest |v|. ngspice's filesource reads each field with ``strtod``: the same numbers as
    ``"%d %d"`` lines would give. Why not ``%``: with fixed widths each field is written column-wise from
    tables of 4, 2 and 1 digits, 4.5× faster than Python's ``%`` (0.05 s against 0.22 s for 2·10⁶
    lines), so the noise keeps ahead of ngspice, which parses the file before its first step.
    Cost O(m·c·digits/4) vectorised; memory O(m·line).
    """
    m, c = values.shape
    wk = len(str(int(k.max(initial=0))))
    wv = len(str(int(np.abs(values).max(initial=0))))
    width = wk + c * (2 + wv) + 1
    buf = np.empty(m * width, np.uint8)

    def put(table: np.ndarray, pos: int, index: np.ndarray) -> None:  # table[index] into column pos
        np.ndarray((m,), table.dtype, buffer=buf, offset=pos, strides=(width,))[...] = table[index]

    def digits(a: np.ndarray, pos: int, n: int) -> None:  # a ≥ 0 as n digits from column pos
        end = pos + n
        while end - pos >= 4:
            a, low = np.divmod(a, 10_000)
            end -= 4
            put(_DIGITS4, end, low)
        if end - pos == 3:
            put(_DIGITS1, pos, a // 100)
            put(_DIGITS2, pos + 1, a % 100)
        elif end - pos == 2:
            put(_DIGITS2, pos, a)
        elif end - pos == 1:
            put(_DIGITS1, pos, a)

    digits(k, 0, wk)
    for j in range(c):
        pos = wk + j * (2 + wv)
        put(_SIGNS, pos, (values[:, j] < 0).view(np.uint8))
        digits(np.abs(values[:, j]), pos + 2, wv)
    buf[width - 1 :: width] = ord("\n")
    return buf.tobytes()
