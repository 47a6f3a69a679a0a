"""The Python front door: one function per thing a researcher does, each the call a CLI command makes.

Everything here is re-exported from ``thermosim`` itself::

    import thermosim as ts
    r = ts.run("rc_single", seed=2)             # a shipped spec, a .toml path, a Spec or a .cir netlist
    r.samples, r.cov_theory, r.passed           # (n, d) volts, the exact covariance, all checks passed
    ts.plot(r, "hist")                          # figures take ax= and return the axes

Output folders: ``out=None`` keeps a run in memory, ``out="auto"`` writes ``results/<name>/`` in the
current folder (what the command line does), any other path writes there. Folders are written atomically
and only folders thermosim created are ever replaced (see docs/security.md).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import SpecError, is_plain_name
from .paths import RESULTS
from .runs.spec import Spec, load_spec
from .spice.foreign import NETLIST_SUFFIXES  # `run` treats these as netlists, anything else as a spec

if TYPE_CHECKING:  # the heavy layers load when a function needs them: `thermosim --help` stays quick
    from .circuits import Family
    from .runs.result import Result


def family(name: str, params: type, metrics: tuple[str, ...] = (), figures=None, report=None):
    """Decorator registering a circuit family: ``@family("name", Params)`` over ``build(params) -> Built``
    (see :func:`thermosim.circuits.register` for the hooks)."""
    from .circuits import register

    return register(name, params, metrics, figures, report)


def families() -> dict[str, Family]:
    """Every registered family by name (shipped, plugins of the ``thermosim.families`` entry points, and
    any registered in this session with :func:`family`)."""
    from .circuits import FAMILIES

    return dict(sorted(FAMILIES.items()))


def describe(name: str) -> str:
    """Markdown description of a family: its summary and every ``[circuit]`` key with its type, default,
    unit and note (the text of ``thermosim describe NAME`` and docs/reference.md)."""
    from .circuits.describe import describe as text

    return text(name)


def reference() -> str:
    """docs/reference.md: every registered family's keys, then the ``[sim]`` and ``[energy]`` keys."""
    from .circuits.describe import describe as text
    from .circuits.describe import keys_table, reference_head
    from .runs.spec import EnergySpec, SimSpec

    parts = [reference_head(), "## Families", ""] + [text(n) for n in families()]
    for title, cls in (("[sim]", SimSpec), ("[energy]", EnergySpec)):
        parts += [f"## {title} (every spec)", "", (cls.__doc__ or "").strip(), "", keys_table(cls), ""]
    return "\n".join(parts)


def _spec(target: Spec | str | os.PathLike, overrides: dict | None) -> Spec:
    if isinstance(target, Spec):
        if overrides:
            raise SpecError("overrides apply to a spec file or name; change a Spec with dataclasses.replace")
        return target
    return load_spec(target, overrides)


def _out(out: str | os.PathLike | None, name: str) -> Path | None:
    if out is None:
        return None
    if str(out) == "auto":
        if not is_plain_name(name):
            raise SpecError(f"'{name}' cannot name a results folder; give one with out= (--out)")
        return RESULTS / name
    return Path(out)


def run(
    target: Spec | str | os.PathLike,
    seed: int | None = None,
    out: str | os.PathLike | None = None,
    *,
    overrides: dict[str, Any] | None = None,
    probes: list[str] | None = None,
    thermal: float | None = None,
    plots: bool = True,
    quiet: bool = False,
    keep_run_dir: bool = False,
    samples: str = "full",
) -> Result:
    """Simulate a circuit in ngspice with calibrated, seeded noise and judge it against its exact law.

    Parameters
    ----------
    target : a shipped spec's name (``"gauss4"``), a spec file, a :class:`Spec`, or a netlist file
        (``.cir``, ``.net``, ``.sp``, ``.spice``) run as it is.
    seed : noise seed (default: the spec's ``sim.seed``); a seeded run reproduces bit for bit.
    out : ``None`` in memory, ``"auto"`` for ``results/<name>/``, or a folder.
    overrides : dotted keys set on a spec file before validation, e.g. ``{"circuit.c_f": 2e-12}``.
    probes : for a netlist, the variables to analyse: nodes ("n1", "v(n1)") or branch currents
        ("i(v1)", "i(l1)"); default every node voltage.
    thermal : for a netlist, the temperature [K] of its resistors: every resistor gets its seeded
        Johnson noise on the fixed noise grid (the families' engine), TRNOISE/TRRANDOM are removed, and a
        linear netlist is judged against its exact law (stochastic MNA + Lyapunov; kT·C⁻¹ when passive).
        Overrides then apply as for specs (``{"circuit.values.r1": 2e3, "sim.noise_step_s": 1e-10}``).
        ``None`` runs the netlist as it is: its own noise, measured only.
    plots : write the figures with the results (a written run only).
    samples : what a written run's samples.npz holds: ``"full"`` every sample, ``"thin"`` every k-th
        (k recorded in metrics.json's ``samples_file``; the file ≤ ~10 MB), ``"none"`` no file.
        A folder holding another spec's results is refused (the same spec run again replaces them).

    Returns
    -------
    Result
        samples (n, d) in V/A on the noise grid after burn-in, the exact mean/covariance, the checks
        (|measured − expected| ≤ k·SE from the effective sample size), the energy table and all metrics.

    Cost: ngspice's, about 0.1–0.7 µs per node per time step (one time step per noise sample), plus
    reading the raw file (~7 ns per value).
    """
    if isinstance(target, str | os.PathLike) and Path(target).suffix.lower() in NETLIST_SUFFIXES:
        from .runs.run import run_netlist_file

        path = Path(target)
        if thermal is None:
            if overrides:
                raise SpecError(f"{target}: overrides (--set) apply to a netlist run with --thermal T")
            out = _out(out, path.stem)
            return run_netlist_file(
                path, probes=probes, out=out, keep=keep_run_dir, seed=seed, samples=samples
            )
        from .runs.netlist_spec import netlist_spec

        spec = netlist_spec(path, thermal, probes, overrides)
    else:
        if thermal is not None or probes:
            raise SpecError(f"{target}: thermal= and probes= apply to netlists (.cir, .net, .sp, .spice)")
        spec = _spec(target, overrides)
    from .runs.run import run_spec

    out = _out(out, spec.name)
    return run_spec(spec, seed=seed, out=out, plots=plots, keep=keep_run_dir, quiet=quiet, samples=samples)


def sweep(
    target: str | os.PathLike,
    out: str | os.PathLike | None = "auto",
    *,
    workers: int | None = None,
    dask: bool = False,
    scheduler: str | None = None,
    resume: bool = False,
    overrides: dict[str, Any] | None = None,
):
    """Run a sweep spec (a shipped sweep's name or a file): every grid point × replica, cached by a key of
    every input, on local processes (``workers``, default all cores) or a Dask cluster (``dask=True`` for
    a local one, ``scheduler="tcp://host:port"`` for yours).

    Returns the tidy table (one row per point × replica: axes, seed, metrics, samples sha256, status) as
    a :class:`pandas.DataFrame`; ``df.attrs`` holds the folder and the run counts. ``out="auto"`` writes
    ``results/sweeps/<name>/``; ``None`` works in a temporary folder removed afterwards. ``overrides``
    (dotted keys) join the sweep's ``[set]``: fixed at every point.
    """
    import pandas as pd

    from .runs.sweep import load_sweep
    from .runs.sweep_run import run_sweep

    sw = load_sweep(target, overrides)
    tmp = None
    if out is None:
        tmp = Path(tempfile.mkdtemp(prefix=f"thermosim-sweep-{sw.name}-"))
        folder = tmp / sw.name
    else:
        folder = RESULTS / "sweeps" / sw.name if str(out) == "auto" else Path(out)
    try:
        counts = run_sweep(
            sw, folder, workers=workers or os.cpu_count() or 1, dask=dask, scheduler=scheduler, resume=resume
        )
        text = {c: str for c in ("samples_sha256", "status", "error", "key")}  # hex may look like a number
        df = pd.read_csv(folder / "table.csv", dtype=text, keep_default_na=False, na_values=[""])
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    df.attrs.update(counts, out=None if tmp else str(folder), sweep=sw.name)
    return df


def compare(out: str | os.PathLike = RESULTS / "compare", seed: int = 0, log=None) -> dict:
    """The digital references against the circuits on the same tasks (digits: DDPM at 10/50/200 steps,
    DDIM, a Gaussian circuit, the exact Gaussian; Gaussian laws: circuit, thermox, Cholesky, DDPM), with
    quality, energy per sample and the verdict table. Needs the ``thermosim[digital]`` extra (JAX)."""
    import sys

    from .compare.digits import run_compare
    from .results import claim_output_dir

    claim_output_dir(Path(out))
    return run_compare(Path(out), seed=seed, log=log or sys.stderr)


def train(out: str | os.PathLike = RESULTS / "generative", **options) -> dict:
    """Train the generative thermodynamic computer on the 8×8 digits (exact least squares on the
    time-reversed noising paths); writes model.npz, training.json and a resumable checkpoint to ``out``.
    Options: ``stages``, ``ridge``, ``smooth``, ``tie_couplings``, ``epochs``, ``batch``, ``seed`` (the
    model's :class:`~thermosim.generative.model.TrainConfig`), ``all_digits``, ``limit``, ``quiet``."""
    from .generative.command import train_digits

    return train_digits(Path(out), **options)


def generate(
    out: str | os.PathLike = RESULTS / "generative",
    *,
    workers: int | None = None,
    dask: bool = False,
    scheduler: str | None = None,
    **options,
) -> dict:
    """Generate digits with the trained computer as digital twin, in ngspice and at transistor level, and
    judge them against the DDPM and real digits; writes samples.npz, metrics.json and figures to ``out``.
    The netlists run on local processes (``workers``, default all cores) or a Dask cluster (``dask=True``
    for a local one, ``scheduler="tcp://host:port"`` for yours), with the same samples on either.
    Options: ``model`` (default out/model.npz), ``n``, ``spice_n``, ``transistor_n``, ``seed``,
    ``relax``, ``window``, ``gain``, ``class_bits`` ("rng" | "pbit"), ``quiet``."""
    from .generative.command import generate_digits

    return generate_digits(Path(out), workers=workers, dask=dask, scheduler=scheduler, **options)


def linalg(
    kind: str, *, workers: int = 2, dask: bool = False, scheduler: str | None = None, **options
) -> dict:
    """Thermodynamic linear algebra: ``kind`` = ``"inverse"`` (A⁻¹ from the sampled covariance),
    ``"solve"`` (A⁻¹b from the mean under a bias b) or ``"mismatch"`` (the error floor against component
    tolerance). The runs go to local processes (``workers``) or a Dask cluster (``dask=True`` for a local
    one, ``scheduler="tcp://host:port"`` for yours), with the same answer on either. Options as
    :func:`thermosim.linalg.command.run_command` (matrix=FILE.npy or random=[d, ...], circuit="rc"|"rlc",
    samples, seed, out, ...); returns the summary written to linalg.json."""
    from .linalg.command import run_command

    return run_command(kind, workers=workers, dask=dask, scheduler=scheduler, **options)


def plot(result: Result, kind: str = "hist", ax=None):
    """One figure of a run on ``ax`` (a new one when None); returns the axes (an array for a grid).

    kind: ``"hist"`` (each variable against its exact marginal density), ``"cov"`` (measured / theory /
    difference in SE), ``"autocorr"`` (normalised autocorrelation of up to 4 variables), ``"energy"``
    (the energy table per sample), ``"trace"`` (the first 2000 samples in time) — the figures a written
    run saves (:func:`thermosim.plots.run_figure`).
    """
    from .plots import run_figure

    return run_figure(kind, result.metrics, result.samples, result.times_s, ax=ax, cdfs=result.cdfs or None)


def init(family: str, name: str, folder: str | os.PathLike = ".") -> Path:
    """Write ``folder/NAME.toml``: a commented starter spec of ``family`` (the values of a shipped spec of
    that family where there is one, every other key with its default and note; for ``netlist`` also a
    small RC netlist ``NAME.cir`` it names); refuses to overwrite."""
    from .circuits.describe import starter_spec
    from .paths import shipped_specs
    from .runs.spec import read_toml

    if family not in families():
        raise SpecError(f"{family!r} is not a known circuit family (known: {', '.join(families())})")
    if not is_plain_name(name):
        raise SpecError(f"name = {name!r} must be a plain file name (letters, digits, '_', '-', '+', '.')")
    path = Path(folder) / f"{name}.toml"
    if path.exists():
        raise SpecError(f"{path} exists; choose another name (init never overwrites a file)")
    example = next((t for t in map(read_toml, shipped_specs()) if t.get("family") == family), None)
    circuit, sim = (example["circuit"], example["sim"]) if example else ({}, {"t_stop_s": 1e-3, "seed": 1})
    from .results import atomic_write_text

    if family == "netlist":  # the spec names a netlist: write a small one beside it to start from
        from .circuits.netlist import STARTER_NETLIST

        cir = path.with_suffix(".cir")
        if cir.exists():
            raise SpecError(f"{cir} exists; choose another name (init never overwrites a file)")
        atomic_write_text(cir, STARTER_NETLIST)
        circuit, sim = {"file": cir.name}, {"t_stop_s": 2e-5, "seed": 1}
    atomic_write_text(path, starter_spec(family, name, circuit, sim))
    return path


def netlist(target: Spec | str | os.PathLike, overrides: dict[str, Any] | None = None) -> str:
    """The netlist text a spec simulates (noise sources attached, seed-independent)."""
    from .runs.experiment import prepare

    return prepare(_spec(target, overrides)).netlist


def replot(sweep_dir: str | os.PathLike, x: str | None = None, y: list[str] | None = None) -> list[str]:
    """Redraw a finished sweep's figures from its table.csv (no simulation); returns the file names."""
    from .runs.sweep_run import replot as redraw

    return redraw(Path(sweep_dir), x=x, y=y)


def demo(out: str | os.PathLike = RESULTS, fresh: bool = False) -> int:
    """Every shipped spec and sweep, the digital comparison, the generative computer and linalg, with
    results/REPORT.md; returns the exit status (1 if any physics check failed). The runs always run;
    sweep points, the comparison, the generation, the generative sweep and linalg already in ``out`` are
    reused when they were made from the same inputs (content keys: the code, the versions, every input),
    unless ``fresh``."""
    from .report.demo import demo as run_demo

    return run_demo(Path(out), fresh=fresh)


def netlists(check: bool = False) -> list[Path]:
    """Regenerate the committed netlists (netlists/NAME.cir) from every shipped spec; returns the stale
    ones (rewritten unless ``check``)."""
    from .paths import NETLISTS_DIR, shipped_specs
    from .results import atomic_write_text
    from .runs.experiment import prepare

    stale = []
    for spec_path in shipped_specs():
        spec = load_spec(spec_path)
        text = prepare(spec).netlist
        target = NETLISTS_DIR / f"{spec.name}.cir"
        if not target.exists() or target.read_text() != text:
            stale.append(target)
            if not check:
                atomic_write_text(target, text)
    return stale


def noise_files(target, seed: int | None = None, out: str | os.PathLike | None = None):
    """Write the seeded noise files a spec's netlist reads (for running the netlist in stock ngspice);
    returns (seed, lines per file, paths). They go to ``out``, by default the current folder (never into
    the installed package): put them beside the netlist (``thermosim netlist SPEC > SPEC.cir``)."""
    from .runs.experiment import noise_blocks, prepare

    spec = _spec(target, None)
    prep = prepare(spec)
    seed = spec.sim.seed if seed is None else seed
    outdir = Path(out) if out else Path.cwd()
    outdir.mkdir(parents=True, exist_ok=True)
    names = prep.built.noise.files()
    tmp = [outdir / f".{n}.partial" for n in names]
    try:
        files = [open(p, "wb") for p in tmp]
        for block in noise_blocks(prep, seed):
            for f, chunk in zip(files, block, strict=True):
                f.write(chunk)
        for f, p, n in zip(files, tmp, names, strict=True):
            f.close()
            p.replace(outdir / n)
    finally:
        for p in tmp:
            p.unlink(missing_ok=True)
    return seed, prep.n_steps + 3, [outdir / n for n in names]
