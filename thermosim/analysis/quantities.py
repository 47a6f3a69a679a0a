"""The one registry of run metrics: every name a run's metrics.json holds, with its label and unit, and
the naming rules around it (units from the suffix, elements ``name[i]`` / ``name[i][j]``, each metric's
own standard error). Sweep validation, sweep tables and every sweep figure read it.

A family's own metrics that are not here are still valid sweep metrics (the family declares them); their
label is their name and their unit comes from the suffix convention (``_s``, ``_f``, ``_ohm``, ...).
"""

from __future__ import annotations

import difflib
import math
import re

# unit from the name's suffix (the project's convention: units in the names); "_s" is seconds, or siemens
# for a conductance (see unit())
SUFFIX_UNITS = {
    "_ohm": "Ω",
    "_f": "F",
    "_h": "H",
    "_a": "A",
    "_v": "V",
    "_k": "K",
    "_hz": "Hz",
    "_j": "J",
    "_m": "m",
    "_w": "W",
    "_a2_per_hz": "A²/Hz",
    "_rad2_per_s": "rad²/s",
}
_CONDUCTANCE = re.compile(r"^(g|gm|coupling|conductance|noise_conductance|g0|g_)|conductance|_g_")

# name → (label, unit) of every numeric metric a run writes (experiment.simulate and the families' own);
# unit None: from the suffix
METRICS: dict[str, tuple[str, str | None]] = {
    "seed": ("noise seed", ""),
    "wall_s": ("wall-clock time", None),
    "ngspice_s": ("ngspice time", None),
    "cpu_s": ("CPU time", None),
    "n_points": ("ngspice time points", ""),
    "n_noise_samples": ("noise samples", ""),
    "n_samples": ("samples after burn-in", ""),
    "points_per_noise_sample": ("time points per noise sample", ""),
    "points_per_sim_s": ("time points per simulated second", "1/s"),
    "noise_step_s": ("noise step", None),
    "t_stop_s": ("simulated time", None),
    "burn_in_s": ("burn-in", None),
    "tau_fast_s": ("fastest relaxation time", None),
    "tau_slow_s": ("slowest relaxation time", None),
    "grid_alignment": ("noise-grid alignment", ""),
    "mean": ("mean", "V"),
    "mean_se": ("SE of the mean", "V"),
    "mean_theory": ("exact mean", "V"),
    "var": ("variance", "V²"),
    "var_se": ("SE of the variance", "V²"),
    "var_theory": ("exact variance", "V²"),
    "var_ratio": ("variance / theory", ""),
    "cov": ("covariance", "V²"),
    "cov_se": ("SE of the covariance", "V²"),
    "cov_theory": ("exact covariance", "V²"),
    "cov_rel_err": ("relative covariance error", ""),
    "cov_rel_err_se": ("expected relative covariance error", ""),
    "tau_int_s": ("integrated autocorrelation time", None),
    "tau_int_max_s": ("longest autocorrelation time", None),
    "n_eff": ("effective samples", ""),
    "independent_samples": ("independent samples", ""),
    "check_k": ("check threshold k (SE)", ""),
    "supply_power_w": ("supply power", None),
    "supply_energy_per_sample_j": ("supply energy per independent sample", None),
    "gaussian_kl": ("Gaussian KL divergence", "nat"),
    "gaussian_kl_expected": ("expected Gaussian KL (finite samples)", "nat"),
    "hist_kl": ("histogram KL divergence", "nat"),
    "wasserstein1": ("Wasserstein-1 distance", "V"),
    "ess_per_sim_s": ("effective samples per simulated second", "1/s"),
    "ess_per_cpu_s": ("effective samples per CPU second", "1/s"),
    "passed": ("all checks passed", ""),
    # cmos_pbit
    "p1": ("P(state 1)", ""),
    "p1_se": ("SE of P(state 1)", ""),
    "pbit_tau_int_s": ("0/1 autocorrelation time", None),
    "switches": ("switches", ""),
    "switch_rate_hz": ("switch rate", None),
    # cmos_ring
    "frequency_hz": ("oscillation frequency", None),
    "frequency_se_hz": ("SE of the frequency", None),
    "frequency_by_ring_hz": ("frequency of each ring", None),
    "period_jitter_s": ("period jitter", None),
    "cycles": ("cycles", ""),
    "cv2f_power_w": ("C·V²·f power", None),
    "cv2f_device_power_w": ("C·V²·f power of the devices", None),
    "locking_r": ("locking order parameter R", ""),
    "locking_r_se": ("SE of R", ""),
    "phase_diff_mean": ("mean phase difference Δφ", "rad"),
    "phase_diff_mean_se": ("SE of Δφ", "rad"),
    "phase_diff_circstd": ("circular SD of Δφ", "rad"),
    "phase_diff_drift_hz": ("phase-difference drift", None),
    "phase_diffusion_rad2_per_s": ("phase diffusion", None),
    "phase_diff_hist": ("Δφ histogram", ""),
    "supply_energy_per_cycle_j": ("supply energy per cycle", None),
    # cmos_quartic
    "j2_fit": ("fitted J₂", ""),
    "j4_fit": ("fitted J₄", ""),
    "bias_fit": ("fitted bias", ""),
    "var_x_dc": ("variance of x (DC density)", ""),
    "var_x_behavioural_fit": ("variance of x (fitted quartic)", ""),
    "var_x_behavioural_target": ("variance of x (target quartic)", ""),
}
VECTORS = {
    "mean", "mean_se", "mean_theory", "var", "var_se", "var_theory", "var_ratio", "tau_int_s", "hist_kl",
    "wasserstein1", "frequency_by_ring_hz", "phase_diff_hist",
}  # fmt: skip
MATRICES = {"cov", "cov_se", "cov_theory"}
# a metric whose standard error is derived from others: name → (numerator SE, denominator)
_DERIVED_SE = {"var_ratio": ("var_se", "var_theory")}
_KIND = {0: "a number", 1: "a vector", 2: "a matrix"}
_NAME = re.compile(r"^([A-Za-z_]\w*)((?:\[\d+\])*)$")


def unit(name: str) -> str:
    """The unit a name declares ('' if none): ``c_f`` → F, ``coupling_s`` → S, ``t_stop_s`` → s; the
    last dotted part of a spec key (``circuit.r_ohm`` → Ω); a registered metric's own unit first."""
    if ".values." in name:  # a netlist's element value (circuit.values.c3): its unit from the letter
        return {"r": "Ω", "c": "F", "l": "H", "v": "V", "i": "A", "g": "S"}.get(
            name.rsplit(".", 1)[-1][:1].lower(), ""
        )
    base = parse(name)[0] if _NAME.match(name) else name.rsplit(".", 1)[-1].split("[")[0]
    if base in METRICS and METRICS[base][1] is not None:
        return METRICS[base][1]
    if base.endswith("_s") and not base.endswith("_per_s"):
        return "S" if _CONDUCTANCE.search(base[:-2]) else "s"
    for suffix, u in sorted(SUFFIX_UNITS.items(), key=lambda kv: -len(kv[0])):
        if base.endswith(suffix):
            return u
    return ""


def parse(name: str) -> tuple[str, tuple[int, ...]]:
    """``"cov[0][1]"`` → ``("cov", (0, 1))``; ValueError for anything else."""
    m = _NAME.match(name)
    if m is None:
        raise ValueError(f"'{name}' is not a metric name (write NAME, NAME[i] or NAME[i][j])")
    return m.group(1), tuple(int(i) for i in re.findall(r"\d+", m.group(2)))


def label(name: str) -> str:
    """Axis text of a metric or spec key: its label and its unit: ``tau_int_s[0]`` →
    ``integrated autocorrelation time, variable 0 [s]``, ``cov[0][1]`` → ``covariance (0, 1) [V²]``;
    an unregistered name as it is (the unit scaled by the caller)."""
    base, _, rest = name.partition("[")
    idx = [int(i) for i in re.findall(r"\d+", rest)]
    text = METRICS[base][0] if base in METRICS and _NAME.match(name) else name
    if text != name and len(idx) == 1:
        text += f", variable {idx[0]}"
    elif text != name and idx:
        text += f" ({', '.join(map(str, idx))})"
    u = unit(name)
    return f"{text} [{u}]" if u else text


def check(name, family_metrics=frozenset()) -> None:
    """ValueError unless ``name`` is a scalar a run's metrics.json holds: a registered or family metric,
    a vector's element ``name[i]`` or a matrix's ``name[i][j]``; the error lists close or a few names."""
    known = set(METRICS) | set(family_metrics)
    try:
        base, idx = parse(name) if isinstance(name, str) else ("", ())
    except ValueError:
        base, idx = "", ()
    if base in known:
        dims = 2 if base in MATRICES else 1 if base in VECTORS else 0
        if base not in family_metrics and len(idx) != dims:
            form = {0: base, 1: f"{base}[i]", 2: f"{base}[i][j]"}[dims]
            raise ValueError(f"'{name}' is not a metric: {base} is {_KIND[dims]}, write {form}")
        return
    near = difflib.get_close_matches(base or str(name), sorted(known), n=3, cutoff=0.6)
    some = near or ["var_ratio[i]", "cov_rel_err", "tau_int_s[i]", "cov[i][j]", "n_eff", "supply_power_w"]
    raise ValueError(
        f"'{name}' is not a metric of a run (e.g. {', '.join(some)}; every name: thermosim.analysis."
        "quantities.METRICS and the family's own)"
    )


def value(metrics: dict, name: str) -> float:
    """The number ``name`` addresses in a run's metrics (NaN when the run has none, e.g. no theory)."""
    base, idx = parse(name)
    v = metrics.get(base)
    try:
        for i in idx:
            v = v[i]
        return math.nan if v is None else float(v)
    except (TypeError, IndexError, KeyError, ValueError):
        return math.nan


def se_name(name: str) -> str | None:
    """The name of a metric's own standard error when runs record one: ``p1`` → ``p1_se``,
    ``var[0]`` → ``var_se[0]``, ``frequency_hz`` → ``frequency_se_hz``, ``var_ratio[0]`` →
    ``var_ratio_se[0]`` (derived: var_se / var_theory); None for an SE itself or a metric without one."""
    base, _, rest = name.partition("[")
    rest = f"[{rest}" if rest else ""
    if base.endswith("_se") or "_se_" in base:
        return None
    if base in _DERIVED_SE:
        return f"{base}_se{rest}"
    for suffix in sorted(SUFFIX_UNITS, key=len, reverse=True):
        stem = base[: -len(suffix)]
        if base.endswith(suffix) and f"{stem}_se{suffix}" in METRICS:
            return f"{stem}_se{suffix}{rest}"
    return f"{base}_se{rest}" if f"{base}_se" in METRICS else None


def theory_name(name: str) -> str | None:
    """The exact value runs record beside a measured metric: ``var[0]`` → ``var_theory[0]``,
    ``cov[0][1]`` → ``cov_theory[0][1]``, ``mean[1]`` → ``mean_theory[1]``; None for other metrics."""
    base, _, rest = name.partition("[")
    return f"{base}_theory[{rest}" if base in ("mean", "var", "cov") and rest else None


def se_value(metrics: dict, name: str) -> float:
    """The run's own standard error of metric ``name`` (NaN when it records none)."""
    se = se_name(name)
    if se is None:
        return math.nan
    base, idx = parse(name)
    if base in _DERIVED_SE:
        num, den = _DERIVED_SE[base]
        suffix = "".join(f"[{i}]" for i in idx)
        return value(metrics, num + suffix) / value(metrics, den + suffix)
    return value(metrics, se)


def plural(n: int, word: str) -> str:
    """``1 replica``, ``3 replicas``."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"
