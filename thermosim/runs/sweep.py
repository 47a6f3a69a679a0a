"""Sweeps: a base circuit spec, a grid over its parameters, replicas; run in parallel, resumable.

A sweep spec (circuits/sweeps/NAME.toml)::

    name = "noise_step"
    base = "rc_single"                 # a circuit spec in circuits/
    replicas = 3                       # replica r of every point uses seed + r (recorded)
    seed = 1
    independent_seeds = false          # true: point i uses seed + i·replicas + r (uncorrelated points)
    metrics = ["var_ratio[0]", "points_per_sim_s"]   # any number of a run's metrics.json: name, name[i],
                                       # name[i][j] (thermosim.analysis.quantities)
    figures = ["var_ratio[0]"]         # optional: the metrics drawn (default: all but another's SE)
    [set]                              # fixed overrides for every point (dotted keys)
    "sim.t_stop_s" = 0.02
    [[axes]]
    key = "sim.noise_step_s"           # or an element: "circuit.precision[0][1]", "circuit.values.R1"
    values = [5e-7, 2e-7, 1e-7]        # or start/stop/num (spacing "linear"|"log"), or random = n, low, high

Every point × replica is content-addressed (:func:`point_key`: the fully resolved spec — theory inputs
such as an assumed temperature included, which the netlist may not show — the netlist text, the seed,
the resolved noise step and burn-in, the code and the ngspice version) and its result is written
atomically to points/<key>.json by the parent process as soon as it arrives, so a killed sweep loses
only the points in flight and ``--resume`` reuses every finished one (an exact match only).
Workers only compute (``run_point``); they never write into the sweep directory.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..analysis import quantities
from ..errors import SpecError, plain_name, printable, spice_number
from ..paths import SWEEPS_DIR
from .keys import point_key
from .spec import find_spec, read_toml, spec_from_table, with_overrides

MAX_RUNS = 10_000  # points × replicas of one sweep (hours of ngspice); more is a typo, refused up front


@dataclass(frozen=True)
class Axis:
    key: str
    values: tuple
    log: bool = False  # plot on a log axis
    label: str = ""
    spacing: str = "linear"


@dataclass(frozen=True)
class Sweep:
    name: str
    base: str
    base_table: dict
    axes: tuple[Axis, ...]
    metrics: tuple[str, ...]
    replicas: int = 1
    seed: int = 1
    fixed: tuple[tuple[str, Any], ...] = ()
    description: str = ""
    # False: every point's replica r uses seed + r (common random numbers: smooth curves, correlated
    # errors); True: point i's replica r uses seed + i·replicas + r (independent errors, e.g. for a fit)
    independent_seeds: bool = False
    figures: tuple[str, ...] = ()  # the metrics drawn, one figure each


@dataclass(frozen=True)
class Point:
    index: int  # grid point
    replica: int
    seed: int
    params: tuple[tuple[str, Any], ...]  # axis key → value
    table: dict  # full circuit spec table for this point
    key: str  # content address


def load_sweep(name_or_path: str | Path, overrides: dict[str, Any] | None = None) -> Sweep:
    """Read and validate a sweep spec; every grid point's circuit spec is validated too. ``overrides``
    (dotted keys) join its ``[set]`` table; its ``base`` resolves beside the sweep file first."""
    path = find_spec(name_or_path, SWEEPS_DIR, "sweep")
    table = read_toml(path)  # its errors name the file already
    if overrides:
        fixed = table.get("set", {})
        table["set"] = {**fixed, **overrides} if isinstance(fixed, dict) else fixed
    try:
        return _sweep_from_table(table, path.parent)
    except SpecError as err:
        raise SpecError(f"{path}: {err}") from None


def _sweep_from_table(t: dict, folder: Path | None = None) -> Sweep:
    """A validated Sweep; a relative ``base`` is looked up in ``folder`` (the sweep file's) first."""
    allowed = {
        "name",
        "base",
        "description",
        "replicas",
        "seed",
        "independent_seeds",
        "metrics",
        "figures",
        "set",
        "axes",
    }
    if "family" in t and "base" not in t:
        raise SpecError("this is a circuit spec (it has 'family'): run it with `thermosim run`")
    for key in t:
        if key not in allowed:
            raise SpecError(f"unknown key '{printable(key)}' (allowed: {', '.join(sorted(allowed))})")
    for key in ("name", "base", "metrics", "axes"):
        if key not in t:
            raise SpecError(f"missing required key '{key}'")
    plain_name(t["name"], "name")
    if not isinstance(t["base"], str):
        raise SpecError(f"base must be a string (a circuit spec name or path), got {t['base']!r}")
    replicas, seed = t.get("replicas", 1), t.get("seed", 1)
    if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 1:
        raise SpecError(f"replicas must be an integer >= 1, got {replicas!r}")
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise SpecError(f"seed must be an integer >= 0, got {seed!r}")
    independent = t.get("independent_seeds", False)
    if not isinstance(independent, bool):
        raise SpecError(f"independent_seeds must be true or false, got {independent!r}")
    metrics = t["metrics"]
    if not isinstance(metrics, list) or not metrics:
        raise SpecError("metrics must be a non-empty list of metric names")
    fixed = t.get("set", {})
    if not isinstance(fixed, dict):
        raise SpecError("[set] must be a table of dotted keys")
    if not isinstance(t["axes"], list) or not t["axes"]:
        raise SpecError("axes must be a non-empty list of [[axes]] tables")
    axes = tuple(_axis(a, i) for i, a in enumerate(t["axes"]))
    if len({a.key for a in axes}) != len(axes):
        raise SpecError("two axes sweep the same key")
    runs = math.prod(len(a.values) for a in axes) * replicas
    if runs > MAX_RUNS:
        raise SpecError(f"{runs:,} runs (grid points × replicas) is more than {MAX_RUNS:,} for one sweep")
    try:
        base_table = _base_table(_beside(t["base"], folder))
    except SpecError as err:
        raise SpecError(f"base: {err}") from None
    from ..circuits import FAMILIES

    family = FAMILIES.get(base_table.get("family"))
    for m in metrics:
        _check_metric(m, set(family.metrics) if family else set())
    figures = t.get("figures", default_figures(metrics))
    if not isinstance(figures, list) or any(f not in metrics for f in figures):
        raise SpecError(
            f"figures must be a list of names from metrics ({', '.join(metrics)}), got {figures!r}"
        )
    sweep = Sweep(
        name=t["name"],
        base=t["base"],
        base_table=base_table,
        axes=axes,
        metrics=tuple(metrics),
        replicas=replicas,
        seed=seed,
        fixed=tuple(fixed.items()),
        description=str(t.get("description", "")),
        independent_seeds=independent,
        figures=tuple(dict.fromkeys(figures)),
    )
    for params in grid(sweep):  # every point must be a valid circuit spec: errors name the axis and value
        try:
            spec_from_table(point_table(sweep, params))
        except SpecError as err:
            where = ", ".join(f"{k} = {v!r}" for k, v in params)
            raise SpecError(f"at {where}: {err}") from None
    return sweep


def _base_table(base: str | Path) -> dict:
    """The base's spec table: a spec file, or a netlist (family ``netlist``: Johnson noise at 300 K unless
    ``[set]`` gives ``circuit.temperature_k``; element values swept as ``circuit.values.NAME``)."""
    from ..spice.foreign import NETLIST_SUFFIXES

    if Path(base).suffix.lower() in NETLIST_SUFFIXES:
        from .netlist_spec import netlist_table

        return netlist_table(base, 300.0)
    path = find_spec(base)
    table = read_toml(path)
    try:  # files the base names relative to its own folder (a netlist) become absolute for the workers
        params = spec_from_table(table, path).params
    except SpecError:
        return table  # a base completed by the sweep's [set]: its points are validated below
    for key, value in table.get("circuit", {}).items():
        if isinstance(value, str) and getattr(params, key, value) != value:
            table["circuit"][key] = getattr(params, key)
    return table


def default_figures(metrics) -> list[str]:
    """The metrics drawn by default: all but one that is another's SE (drawn as its error bars)."""
    ses = {quantities.se_name(m) for m in metrics}
    return [m for m in metrics if m not in ses]


def _beside(base: str, folder: Path | None) -> str | Path:
    """``base`` as a file beside the sweep (``base`` or ``base.toml`` in ``folder``) when one is there."""
    if folder is not None and not Path(base).is_absolute():
        for cand in (folder / base, folder / f"{base}.toml"):
            if cand.is_file():
                return cand
    return base


def _check_metric(m: Any, family_metrics: set[str]) -> None:
    """A number of a run's metrics.json: a registered or family metric, ``name[i]`` or ``name[i][j]``."""
    try:
        quantities.check(m, family_metrics)
    except ValueError as err:
        raise SpecError(f"metrics: {err}") from None


def _axis(a: Any, i: int) -> Axis:
    where = f"axes[{i}]"
    if not isinstance(a, dict) or not isinstance(a.get("key"), str):
        raise SpecError(f"{where} must be a table with a 'key' (a dotted parameter name)")
    allowed = {"key", "values", "start", "stop", "num", "spacing", "random", "low", "high", "seed", "label"}
    for k in a:
        if k not in allowed:
            raise SpecError(f"unknown key '{where}.{printable(k)}' (allowed: {', '.join(sorted(allowed))})")
    spacing = a.get("spacing", "linear")
    if spacing not in ("linear", "log"):
        raise SpecError(f"{where}.spacing must be 'linear' or 'log', got {spacing!r}")
    if "values" in a:
        values = a["values"]
        if not isinstance(values, list) or not values:
            raise SpecError(f"{where}.values must be a non-empty list")
        values = [_numeric(v) for v in values]
    elif {"start", "stop", "num"} <= set(a):
        start, stop, num = _number(a, "start", where), _number(a, "stop", where), _count(a, "num", where)
        if spacing == "log":
            if start <= 0 or stop <= 0:
                raise SpecError(f"{where}: log spacing needs start and stop > 0")
            values = [
                float(f"{v:.12g}") for v in np.geomspace(start, stop, num)
            ]  # 3e4, not 30000.00000000001
        else:
            values = np.linspace(start, stop, num).tolist()
    elif {"random", "low", "high"} <= set(a):
        n, lo, hi = _count(a, "random", where), _number(a, "low", where), _number(a, "high", where)
        seed = a.get("seed", 0)
        if not lo < hi or not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
            raise SpecError(f"{where}: random = n values between low < high, with an integer seed >= 0")
        if spacing == "log" and lo <= 0:
            raise SpecError(f"{where}: log spacing needs low > 0")
        u = np.sort(np.random.default_rng(seed).uniform(size=n))
        values = (lo * (hi / lo) ** u if spacing == "log" else lo + (hi - lo) * u).tolist()
    else:
        raise SpecError(f"{where} needs values, or start/stop/num, or random/low/high")
    numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
    log = spacing == "log" or (numeric and min(values) > 0 and max(values) / min(values) > 10**1.5)
    label = str(a.get("label", a["key"]))
    return Axis(key=a["key"], values=tuple(values), log=log, label=label, spacing=spacing)


def _numeric(v: Any) -> Any:
    """A value with a SPICE scale suffix ("10k", "2.2p") as its number, as specs read them; else as is
    (so an axis of such values is numeric: a log axis, sorted points, error-bar plots)."""
    number = spice_number(v) if isinstance(v, str) else None
    return v if number is None else number


def _number(a: dict, key: str, where: str) -> float:
    v = _numeric(a[key])
    try:
        ok = isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
    except OverflowError:  # an integer beyond float range
        ok = False
    if not ok:
        raise SpecError(f"{where}.{key} must be a finite number, got {v!r}"[:200])
    return v


def _count(a: dict, key: str, where: str) -> int:
    v = a[key]
    if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= MAX_RUNS:
        raise SpecError(f"{where}.{key} must be an integer between 1 and {MAX_RUNS:,}, got {v!r}")
    return v


def grid(sweep: Sweep) -> list[tuple[tuple[str, Any], ...]]:
    """The cartesian product of the axes, first axis slowest."""
    return [
        tuple(zip([a.key for a in sweep.axes], combo, strict=True))
        for combo in itertools.product(*(a.values for a in sweep.axes))
    ]


def point_table(sweep: Sweep, params) -> dict:
    return with_overrides(sweep.base_table, {**dict(sweep.fixed), **dict(params)})


def points(sweep: Sweep) -> list[Point]:
    """Every point × replica with its seed and content address (builds each netlist; milliseconds each)."""
    from .experiment import prepare

    out = []
    for i, params in enumerate(grid(sweep)):
        table = point_table(sweep, params)
        prep = prepare(spec_from_table(table))
        for r in range(sweep.replicas):
            seed = sweep.seed + r + (i * sweep.replicas if sweep.independent_seeds else 0)
            key = point_key(prep, seed)
            out.append(Point(index=i, replica=r, seed=seed, params=params, table=table, key=key))
    return out


def run_point(table: dict, seed: int) -> dict:
    """Worker: simulate one point; returns the run's metrics, or {"error": one line} (never raises)."""
    from .experiment import prepare, simulate_scratch

    try:
        return {"metrics": simulate_scratch(prepare(spec_from_table(table)), seed).metrics}
    except Exception as err:  # noqa: BLE001 - a failed point is recorded and the sweep goes on
        return {"error": f"{type(err).__name__}: {err}".splitlines()[0]}


def metric_value(metrics: dict, name: str) -> float:
    return quantities.value(metrics, name)


def summarize(rows: list[dict], sweep_axes: list[str], metrics: list[str]) -> list[dict]:
    """Per grid point: replica mean and standard error (std/√n, ddof=1) of each metric over ok rows; and
    where the rows hold the runs' own SE of a metric (``p1_se`` of ``p1``), that of the replica mean
    (√Σse²/n) as ``"{metric} run se"``."""
    out = []
    for _, group in itertools.groupby(
        sorted(rows, key=lambda r: int(r["point"])), key=lambda r: int(r["point"])
    ):
        group = list(group)
        ok = [r for r in group if r["status"] == "ok"]
        row = {"point": group[0]["point"], **{a: group[0][a] for a in sweep_axes}, "n_ok": len(ok)}
        for m in metrics:
            vals = np.array([float(r[m]) for r in ok if r[m] not in ("", None)])
            row[f"{m} mean"] = float(vals.mean()) if len(vals) else math.nan
            row[f"{m} se"] = float(vals.std(ddof=1) / np.sqrt(len(vals))) if len(vals) > 1 else math.nan
            se = quantities.se_name(m)
            if se is not None and rows and se in rows[0]:
                ses = np.array([float(r[se]) for r in ok if r[se] not in ("", None)])
                row[f"{m} run se"] = float(np.sqrt(np.sum(ses**2)) / len(ses)) if len(ses) else math.nan
        out.append(row)
    return out
