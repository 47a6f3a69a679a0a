"""results/REPORT.md, written by ``thermosim demo`` from the runs of the shipped specs."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from ..paths import shipped_specs, shipped_sweeps


def demo(out: Path, fresh: bool = False) -> int:
    """Run every shipped spec and sweep (discovered in circuits/), the applications and the families'
    report sections; write results/<name>/ and results/REPORT.md; exit 1 if a check failed. Unless
    ``fresh``, the sweeps' points and the comparison, generation, generative sweep and linalg already in
    ``out`` are reused where made from the same inputs (content keys)."""
    from ..results import atomic_write_text, claim_output_dir
    from ..runs.run import summary_table
    from ..runs.spec import load_spec

    claim_output_dir(out, "demo folder")
    specs, sweep_files = shipped_specs(), shipped_sweeps()
    stages = len(specs) + len(sweep_files) + 5  # + family/energy sections, compare, generative, linalg
    done = [0]
    t0 = time.perf_counter()

    def stage(what: str) -> None:  # the progress display: one line per stage, with the time so far
        done[0] += 1
        print(
            f"[demo {done[0]}/{stages}, {time.perf_counter() - t0:.0f} s] {what}", file=sys.stderr, flush=True
        )

    import os

    from ..runs.executor import make_executor, results_in_order

    rows = []
    workers = os.cpu_count() or 1
    print(f"[demo] {len(specs)} runs on {workers} worker(s)", file=sys.stderr, flush=True)
    with make_executor(min(workers, len(specs))) as pool:  # each run is its own ngspice: one per core
        futures = [pool.submit(_run_shipped, path, out) for path in specs]
        for path, m in zip(specs, results_in_order(futures), strict=True):
            stage(f"run {m['circuit']}")
            print(summary_table(m), file=sys.stderr)
            rows.append((load_spec(path), m))
    from ..runs.sweep import load_sweep
    from ..runs.sweep_run import run_sweep

    sweeps = []
    for path in sweep_files:
        sweep = load_sweep(path)
        stage(f"sweep {sweep.name}")
        res = run_sweep(sweep, out / "sweeps" / sweep.name, workers=workers, resume=not fresh)
        _prune_points(sweep, out / "sweeps" / sweep.name)
        sweeps.append((sweep, res))
    from ..circuits import FAMILIES
    from ..compare.digits import compare_markdown, run_compare
    from ..generative.report import generative_markdown
    from ..linalg.report import linalg_markdown
    from .energy import energy_markdown

    stage("the families' sections and the energy section")
    sections = ""
    hooks = list(dict.fromkeys(FAMILIES[s.family].report for s, _ in rows if FAMILIES[s.family].report))
    for hook in hooks:  # each section once, with the runs of every family that declares it
        sections += hook({s.name: (s, m) for s, m in rows if FAMILIES[s.family].report is hook}, out)
    sections += energy_markdown(rows, out)
    stage("the digital denoiser vs the circuits (compare)")
    sections += compare_markdown(run_compare(out / "compare", reuse=not fresh))
    stage("the generative computer (generate)")
    sections += generative_markdown(out, reuse=not fresh)
    sections += sweeps_markdown(sweeps, out)
    stage("thermodynamic linear algebra (linalg)")
    sections += linalg_markdown(out, reuse=not fresh)
    stage("REPORT.md")
    text = report_markdown(rows, time.perf_counter() - t0) + sections  # the header gives the whole time
    atomic_write_text(out / "REPORT.md", text)
    print(f"[thermosim] wrote {out / 'REPORT.md'}", file=sys.stderr)
    ok = all(m["passed"] is not False for _, m in rows)  # None: measured only (no exact law), not failed
    return 0 if ok and not any(r["failed"] for _, r in sweeps) else 1


def _prune_points(sweep, folder: Path) -> None:
    """Remove the points of a shipped sweep's folder that its grid no longer has (another code, another
    grid): the committed points are then exactly the sweep's, which a clone's demo reuses."""
    from ..runs.sweep import points

    keep = {f"{p.key}.json" for p in points(sweep)}
    for f in (folder / "points").glob("*.json"):
        if f.name not in keep:
            f.unlink()


def _run_shipped(path: Path, out: Path) -> dict:
    """One shipped spec run into out/<name>/ (in a worker process); its metrics."""
    from ..runs.run import run_spec
    from ..runs.spec import load_spec

    spec = load_spec(path)
    return run_spec(spec, out=out / spec.name, quiet=True).metrics


def sweeps_markdown(sweeps, out: Path) -> str:
    """The sweeps section: description, replica mean ± SE per point, and the figures."""
    import csv

    from ..analysis.quantities import plural
    from ..runs.sweep_figures import metric_figure

    lines = ["", "## Sweeps", ""]
    for sweep, res in sweeps:
        d = out / "sweeps" / sweep.name
        lines += [
            f"### {sweep.name}",
            "",
            sweep.description,
            "",
            f"{res['total']} runs ({plural(sweep.replicas, 'replica')} per point) in {res['wall_s']:.0f} s; "
            f"`thermosim sweep {sweep.name}`, table in `sweeps/{sweep.name}/table.csv`.",
            "",
        ]
        with open(d / "summary.csv") as f:
            rows = list(csv.DictReader(f))
        axes = [a.key for a in sweep.axes]
        head = axes + [f"{m} (mean ± SE)" for m in sweep.metrics]
        lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for r in rows:
            cells = [f"{float(r[a]):.3g}" for a in axes]
            cells += [_mean_se(float(r[m + " mean"]), float(r[m + " se"])) for m in sweep.metrics]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
        for m in sweep.figures:
            lines.append(f"![{sweep.name} {m}](sweeps/{sweep.name}/{metric_figure(m)})")
        lines.append("")
    return "\n".join(lines)


def report_markdown(rows, total_s: float) -> str:
    m0 = rows[0][1]
    out = [
        "# thermosim report",
        "",
        f"thermosim {m0['thermosim_version']}, ngspice {m0['ngspice_version']}; written by `thermosim demo` "
        f"in {total_s:.0f} s (the runs always run; sweep points and the comparison, generation, generative "
        "sweep and linear-algebra sections are reused where an earlier demo made them from the same inputs — "
        "code, versions, every input — and `thermosim demo --fresh` recomputes them). Each circuit runs in "
        "ngspice with seeded noise (see README, "
        '"Noise mechanism") and is judged against its exact stationary covariance (Lyapunov).',
        "",
        "Contents — each section says what was measured and the command that regenerates it:",
        "",
        "1. Measured vs theory, Cost, and one section per circuit: the engine against exact covariances "
        "(`thermosim run NAME`)",
        "2. Transistor-level circuits: p-bit, coupled rings, quartic neuron "
        "(`thermosim run pbit|ring2|quartic_cmos`)",
        "3. Energy and distribution metrics: supply, heat, read-out, programming; KL, MMD",
        "4. Digital denoiser vs circuits (`thermosim compare`)",
        "5. Generative thermodynamic computer: digits from noise in ngspice "
        "(`thermosim train digits`, `thermosim generate`)",
        "6. Sweeps (`thermosim sweep NAME`)",
        "7. Thermodynamic linear algebra and the mismatch floor (`thermosim linalg`)",
        "",
        "## Measured vs theory",
        "",
        "| circuit | variable | variance measured [V²] | theory [V²] | ratio | ± SE | checks |",
        "|---|---|---|---|---|---|---|",
    ]
    for spec, m in rows:
        if m["cov_theory"] is None:
            continue  # judged in its own section (the cmos circuits)
        th = np.asarray(m["cov_theory"])
        n_ok = sum(c["passed"] for c in m["checks"])
        for i, v in enumerate(m["variables"]):
            tail = f"{n_ok}/{len(m['checks'])}" if i == 0 else ""
            out.append(
                f"| {spec.name if i == 0 else ''} | {v} | {m['cov'][i][i]:.4e} | {th[i, i]:.4e} | "
                f"{m['cov'][i][i] / th[i, i]:.4f} | {m['cov_se'][i][i] / th[i, i]:.4f} | {tail} |"
            )
    out += [
        "",
        "## Cost",
        "",
        "| circuit | noise step [s] | points | points / noise sample | ngspice [s] | total [s] | n_eff | "
        "cov error (expected) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for spec, m in rows:
        err = "—" if m["cov_rel_err"] is None else f"{m['cov_rel_err']:.4f} ({m['cov_rel_err_se']:.4f})"
        out.append(
            f"| {spec.name} | {m['noise_step_s']:.3g} | {m['n_points']:,} | "
            f"{m['points_per_noise_sample']:.4f} | {m['ngspice_s']:.2f} | {m['wall_s']:.2f} | "
            f"{m['n_eff']:.0f} | {err} |"
        )
    for spec, m in rows:
        out += ["", f"## {spec.name}", "", spec.description, ""]
        for fig in m.get("figures", []):
            out.append(f"![{spec.name} {fig}]({spec.name}/{fig})")
        failed = [c["name"] for c in m["checks"] if not c["passed"]]
        out.append("")
        out.append(
            f"Seed {m['seed']}; samples sha256 `{m['samples_sha256'][:16]}…`; "
            + (
                f"FAILED: {', '.join(failed)}."
                if failed
                else "measured only: no exact law to judge it by (its noise-grid check passed)."
                if m["passed"] is None
                else "all checks passed."
            )
        )
    return "\n".join(out) + "\n"


def _mean_se(mean: float, se: float) -> str:
    return f"{mean:.4g}" if se != se else f"{mean:.4g} ± {se:.2g}"  # one replica: no error bar
