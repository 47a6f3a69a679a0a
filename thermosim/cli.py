"""The ``thermosim`` command. Errors print one line and exit 2; a failed physics check exits 1."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

from . import __version__

RESULTS = Path("results")


class UsageError(Exception):
    """Bad input from the user: printed as one line, exit code 2."""


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from .spec import SpecError
    from .spice.errors import SpiceError

    try:
        return args.func(args)
    except (SpecError, SpiceError, UsageError, ValueError, OSError) as err:
        msg = str(err) if not isinstance(err, OSError) else f"{err.strerror}: {err.filename}"
        print(f"thermosim: error: {msg}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("thermosim: interrupted", file=sys.stderr)
        return 130


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="thermosim", description=__doc__)
    p.add_argument("--version", action="version", version=f"thermosim {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    r = sub.add_parser("run", help="simulate a spec (circuits/NAME.toml or a path) or run any .cir netlist")
    r.add_argument("target", help="spec name, spec path, or a .cir netlist")
    r.add_argument("--seed", type=int, help="noise seed (default: the spec's sim.seed)")
    r.add_argument("--out", type=Path, help="output directory (default results/<name>)")
    r.add_argument("--json", action="store_true", help="print one JSON object of the metrics on stdout")
    r.add_argument("--probe", nargs="+", metavar="NODE", help="nodes to analyse in a .cir netlist")
    r.add_argument("--no-plots", action="store_true", help="skip the figures")
    r.add_argument("--keep-run-dir", action="store_true", help="keep ngspice's run directory")
    r.set_defaults(func=cmd_run)

    n = sub.add_parser("netlist", help="print the netlist of a spec")
    n.add_argument("spec")
    n.set_defaults(func=cmd_netlist)

    ns = sub.add_parser("netlists", help="regenerate netlists/*.cir from every spec in circuits/")
    ns.add_argument("--check", action="store_true", help="only compare; exit 1 listing stale files")
    ns.set_defaults(func=cmd_netlists)

    z = sub.add_parser("noise", help="write the seeded noise file a netlist reads (for stock ngspice runs)")
    z.add_argument("spec")
    z.add_argument("--seed", type=int)
    z.add_argument("--out", type=Path, help="file to write (default: netlists/<name>.noise)")
    z.set_defaults(func=cmd_noise)

    d = sub.add_parser("demo", help="run the shipped specs and write results/REPORT.md")
    d.add_argument("--out", type=Path, default=RESULTS)
    d.set_defaults(func=cmd_demo)

    b = sub.add_parser("bench", help="benchmarks that print ratios measured side by side")
    b.add_argument("name", choices=["engine"])
    b.add_argument("--json", action="store_true")
    b.add_argument("--repeats", type=int, default=3)
    b.set_defaults(func=cmd_bench)
    return p


def cmd_run(args) -> int:
    target = Path(args.target)
    if target.suffix.lower() in (".cir", ".net", ".sp", ".spice"):
        return _run_netlist_file(args, target)
    from .spec import load_spec

    spec = load_spec(args.target)
    metrics = run_spec(
        spec, seed=args.seed, out=args.out, plots=not args.no_plots, keep=args.keep_run_dir, quiet=args.json
    )
    if args.json:
        print(json.dumps(metrics, default=str))
    else:
        print(summary_table(metrics))
    return 0 if metrics["passed"] else 1


def run_spec(spec, seed=None, out=None, plots=True, keep=False, quiet=False) -> dict:
    """Simulate one spec and write results/<name>/ atomically; returns the metrics."""
    from .experiment import prepare, simulate
    from .spice.runner import ngspice_version

    seed = spec.sim.seed if seed is None else seed
    prep = prepare(spec)
    ngspice_version()  # fail before any output when ngspice is missing
    out = Path(out) if out else RESULTS / spec.name
    if not quiet:
        print(
            f"[thermosim] {spec.name}: {prep.n_steps:,} noise steps of {prep.noise_step_s:.3g} s, "
            f"seed {seed}",
            file=sys.stderr,
        )
    run_dir = Path(tempfile.mkdtemp(prefix=f"thermosim-{spec.name}-"))
    res = simulate(prep, seed, run_dir, keep=keep)
    if keep:
        res.metrics["run_dir"] = str(run_dir)
    _write_outputs(
        out, prep.netlist, f"{spec.name}.cir", res.metrics, res.samples, res.sample_times_s, plots, spec.name
    )
    return res.metrics


def _write_outputs(out: Path, netlist: str, netlist_name: str, metrics, samples, times, plots, name) -> None:
    """Everything goes to a staging directory first, then replaces ``out`` in one rename."""
    import numpy as np

    from .results import atomic_savez, atomic_write_json, atomic_write_text

    out.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.partial-"))
    stage.chmod(0o755)
    try:
        atomic_write_text(stage / netlist_name, netlist)
        atomic_savez(
            stage / "samples.npz",
            samples=samples,
            t_s=times,
            variables=np.array(metrics["variables"]),
            seed=np.array(metrics["seed"] or -1),
        )
        if plots:
            from .report import run_figures

            metrics["figures"] = run_figures(metrics, samples, stage)
        atomic_write_json(stage / "metrics.json", metrics)
        if out.exists():
            shutil.rmtree(out)
        stage.rename(out)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise


def _run_netlist_file(args, path: Path) -> int:
    import time

    import numpy as np

    from .analysis.stats import covariance_with_se, mean_with_se, resample_uniform, tau_int_columns
    from .netlist_io import prepare_foreign
    from .spice.runner import ngspice_version, run_netlist

    if not path.is_file():
        raise UsageError(f"{path}: no such netlist file")
    text, notes = prepare_foreign(path.read_text(errors="replace"))
    for note in notes:
        print(f"[thermosim] {path.name}: {note}", file=sys.stderr)
    t0 = time.perf_counter()
    run_dir = Path(tempfile.mkdtemp(prefix=f"thermosim-{path.stem}-"))
    # copy sibling files (includes, noise files) so relative paths in the netlist resolve
    for sib in path.parent.iterdir():
        if sib.is_file() and sib != path and sib.stat().st_size < 2**30:
            shutil.copy2(sib, run_dir / sib.name)
    res = run_netlist(text, run_dir, keep=args.keep_run_dir)
    volts = [n for n, ty in zip(res.plot.names, res.plot.types, strict=True) if ty == "voltage"]
    probes = [f"v({p.lower()})" if not p.lower().startswith("v(") else p.lower() for p in (args.probe or [])]
    probes = probes or volts
    missing = [p for p in probes if p not in res.plot.names]
    if missing:
        raise UsageError(f"{path}: no vector {', '.join(missing)} in the results (have: {', '.join(volts)})")
    t = res.plot["time"]
    dt = float(np.median(np.diff(t)))
    burn = t[0] + 0.1 * (t[-1] - t[0])
    _, x = resample_uniform(t, np.column_stack([res.plot[p] for p in probes]), dt, burn)
    mean, mean_se = mean_with_se(x)
    cov, cov_se = covariance_with_se(x)
    tau = tau_int_columns(x)
    import hashlib

    metrics = {
        "circuit": path.stem,
        "family": None,
        "seed": None,
        "ngspice_version": ngspice_version(),
        "wall_s": time.perf_counter() - t0,
        "ngspice_s": res.wall_s,
        "n_points": res.plot.n_points,
        "n_noise_samples": None,
        "points_per_noise_sample": None,
        "variables": probes,
        "sample_step_s": dt,
        "burn_in_s": burn,
        "n_samples": len(x),
        "n_eff": float(len(x) / tau.max()),
        "tau_int_s": (tau * dt).tolist(),
        "mean": np.atleast_1d(mean).tolist(),
        "mean_se": np.atleast_1d(mean_se).tolist(),
        "cov": cov.tolist(),
        "cov_se": cov_se.tolist(),
        "cov_theory": None,
        "cov_rel_err": None,
        "cov_rel_err_se": None,
        "samples_sha256": hashlib.sha256(np.ascontiguousarray(x, "<f8").tobytes()).hexdigest(),
        "notes": notes,
        "checks": [],
        "passed": True,
    }
    out = args.out or RESULTS / path.stem
    _write_outputs(out, text, path.name, metrics, x, np.arange(len(x)) * dt + burn, False, path.stem)
    print(json.dumps(metrics) if args.json else summary_table(metrics))
    return 0


def summary_table(m: dict) -> str:
    """A short human-readable summary of one run's metrics."""
    lines = [
        f"{m['circuit']}: {m['n_points']:,} points in {m['ngspice_s']:.2f} s of ngspice "
        f"({m['wall_s']:.2f} s total), n_eff = {m['n_eff']:.0f}"
    ]
    if m.get("points_per_noise_sample"):
        lines[0] += f", {m['points_per_noise_sample']:.3f} points per noise sample"
    theory = m.get("cov_theory")
    lines.append(f"  {'variable':<10} {'variance [V²]':>14} {'theory [V²]':>14} {'ratio':>8} {'± SE':>7}")
    for i, v in enumerate(m["variables"]):
        var, se = m["cov"][i][i], m["cov_se"][i][i]
        if theory:
            th = theory[i][i]
            lines.append(f"  {v:<10} {var:>14.4e} {th:>14.4e} {var / th:>8.4f} {se / th:>7.4f}")
        else:
            lines.append(f"  {v:<10} {var:>14.4e} {'-':>14} {'-':>8} {'-':>7}")
    if m.get("cov_rel_err") is not None:
        lines.append(
            f"  covariance error vs theory: {m['cov_rel_err']:.4f} (expected size {m['cov_rel_err_se']:.4f})"
        )
    failed = [c["name"] for c in m["checks"] if not c["passed"]]
    if m["checks"]:
        lines.append(
            f"  checks: {len(m['checks']) - len(failed)}/{len(m['checks'])} passed"
            + (f"; FAILED: {', '.join(failed)}" if failed else "")
        )
    return "\n".join(lines)


def cmd_netlist(args) -> int:
    from .experiment import prepare
    from .spec import load_spec

    print(prepare(load_spec(args.spec)).netlist, end="")
    return 0


def cmd_netlists(args) -> int:
    from .experiment import prepare
    from .results import atomic_write_text
    from .spec import CIRCUITS_DIR, NETLISTS_DIR, load_spec

    netdir = NETLISTS_DIR
    stale = []
    for spec_path in sorted(CIRCUITS_DIR.glob("*.toml")):
        spec = load_spec(spec_path)
        text = prepare(spec).netlist
        target = netdir / f"{spec.name}.cir"
        if not target.exists() or target.read_text() != text:
            stale.append(target)
            if not args.check:
                atomic_write_text(target, text)
    if args.check:
        if stale:
            print("stale netlists (run `thermosim netlists`): " + ", ".join(str(s) for s in stale))
            return 1
        print("netlists are up to date")
        return 0
    print(f"wrote {len(stale)} netlist(s)" + (": " + ", ".join(s.name for s in stale) if stale else ""))
    return 0


def cmd_noise(args) -> int:
    from .experiment import noise_lines, prepare
    from .results import atomic_write_text
    from .spec import NETLISTS_DIR, load_spec

    spec = load_spec(args.spec)
    prep = prepare(spec)
    seed = spec.sim.seed if args.seed is None else args.seed
    out = args.out or NETLISTS_DIR / prep.built.noise.file_name
    atomic_write_text(out, "".join(noise_lines(prep, seed)))
    print(f"wrote {out} ({prep.n_steps + 3:,} lines, seed {seed})")
    return 0


def cmd_demo(args) -> int:
    from .report import demo

    return demo(args.out)


def cmd_bench(args) -> int:
    from .bench import bench_engine

    figures = bench_engine(repeats=args.repeats, verbose=not args.json)
    if args.json:
        print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
