"""The ``thermosim`` command. Errors print one line and exit 2; a failed physics check exits 1."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import __version__
from .paths import RESULTS


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    import matplotlib

    matplotlib.use("Agg")  # the command line writes figures to files: never an interactive window
    from .errors import SpecError
    from .spice.errors import SpiceError

    try:
        return args.func(args)
    except (SpecError, SpiceError, ValueError, OSError) as err:
        msg = str(err)
        if isinstance(err, OSError) and err.strerror:
            msg = f"{err.strerror}: {err.filename}" if err.filename else err.strerror
        msg = " ".join(msg.splitlines())  # one line, whatever a message or a value quoted in it holds
        print(f"thermosim: error: {msg}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("thermosim: interrupted", file=sys.stderr)
        return 130


class _Parser(argparse.ArgumentParser):
    """argparse with the one-line error of every other bad input (no usage block)."""

    def error(self, message: str):
        self.exit(2, f"thermosim: error: {message} (see `{self.prog} --help`)\n")


def _seed(text: str) -> int:
    """A noise seed: an integer from 0 to 2**64 - 1."""
    from .errors import MAX_SEED

    value = int(text)  # argparse turns a ValueError into "invalid integer value"
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"must be an integer from 0 to 2**64 - 1, got {value}")
    return value


def _count(text: str) -> int:
    """A count: an integer >= 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, got {value}")
    return value


_seed.__name__ = _count.__name__ = "integer"  # argparse says "invalid integer value: 'x'"


def _parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="thermosim",
        description="Thermodynamic-computing circuits in ngspice with calibrated, seeded noise, judged "
        "against exact theory. Bad input exits 2 with one line; a failed physics check exits 1.",
    )
    p.add_argument("--version", action="version", version=f"thermosim {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    r = sub.add_parser("run", help="simulate a spec (circuits/NAME.toml or a path) or run any .cir netlist")
    r.add_argument("target", help="spec name, spec path, or a .cir netlist")
    r.add_argument("--seed", type=_seed, help="noise seed (default: the spec's sim.seed)")
    r.add_argument("--out", type=Path, help="output directory (default results/<name>)")
    r.add_argument("--json", action="store_true", help="print one JSON object of the metrics on stdout")
    r.add_argument(
        "--probe", nargs="+", action="extend", metavar="NODE", help="nodes to analyse in a .cir netlist"
    )
    r.add_argument("--no-plots", action="store_true", help="skip the figures")
    r.add_argument("--keep-run-dir", action="store_true", help="keep ngspice's run directory")
    r.set_defaults(func=cmd_run)

    n = sub.add_parser("netlist", help="print the netlist of a spec")
    n.add_argument("spec", help="spec name (circuits/NAME.toml) or path")
    n.set_defaults(func=cmd_netlist)

    ns = sub.add_parser("netlists", help="regenerate netlists/*.cir from every spec in circuits/")
    ns.add_argument("--check", action="store_true", help="only compare; exit 1 listing stale files")
    ns.set_defaults(func=cmd_netlists)

    z = sub.add_parser("noise", help="write the seeded noise file a netlist reads (for stock ngspice runs)")
    z.add_argument("spec", help="spec name (circuits/NAME.toml) or path")
    z.add_argument("--seed", type=_seed, help="noise seed (default: the spec's sim.seed)")
    z.add_argument("--out", type=Path, help="directory to write to (default: netlists/)")
    z.set_defaults(func=cmd_noise)

    sw = sub.add_parser("sweep", help="run a sweep spec (circuits/sweeps/NAME.toml or a path)")
    sw.add_argument("sweep", help="sweep name (circuits/sweeps/NAME.toml) or path")
    sw.add_argument("--workers", type=_count, default=None, help="parallel runs (default: all cores)")
    ex = sw.add_mutually_exclusive_group()
    ex.add_argument("--dask", action="store_true", help="start a local Dask cluster with --workers workers")
    ex.add_argument(
        "--scheduler", metavar="ADDR", help="submit to an existing Dask scheduler, e.g. tcp://host:8786"
    )
    sw.add_argument(
        "--resume", action="store_true", help="reuse every finished point in the output directory"
    )
    sw.add_argument("--out", type=Path, help="output directory (default results/sweeps/<name>)")
    sw.set_defaults(func=cmd_sweep)

    pl = sub.add_parser("plot", help="re-plot a sweep from its table.csv without simulating")
    pl.add_argument("sweep_dir", type=Path, help="a sweep's output directory (with table.csv)")
    pl.add_argument("--x", help="axis for the horizontal axis (default: the first)")
    pl.add_argument("--y", nargs="+", help="metrics to plot (default: the sweep's)")
    pl.set_defaults(func=cmd_plot)

    fa = sub.add_parser("families", help="list the circuit families (shipped and plugins), one line each")
    fa.set_defaults(func=cmd_families)
    de = sub.add_parser("describe", help="a family's spec keys: type, default, unit and note")
    de.add_argument("family", nargs="?", help="family name (see `thermosim families`)")
    de.add_argument("--all", action="store_true", help="every family and the shared keys (docs/reference.md)")
    de.set_defaults(func=cmd_describe)

    d = sub.add_parser("demo", help="run the shipped specs and write results/REPORT.md")
    d.add_argument("--out", type=Path, default=RESULTS, help="results directory (default results/)")
    d.set_defaults(func=cmd_demo)

    c = sub.add_parser(
        "compare",
        help="the DDPM denoiser and the circuits judged side by side (digits and a Gaussian task)",
        description="Train (or load from results/digital/) a DDPM on scikit-learn's 8x8 digits, sample it at "
        "10, 50 and 200 steps, sample the digits' Gaussian fit with an RC circuit in ngspice, and judge all "
        "with one classifier (recognisable fraction, class coverage, Frechet distance, nearest-training "
        "distance) beside held-out real digits and noise; energy per sample by term for each.",
    )
    c.add_argument("--out", type=Path, default=RESULTS / "compare", help="output directory")
    c.add_argument("--seed", type=int, default=0, help="sampling seed (default 0)")
    c.add_argument("--json", action="store_true", help="print one JSON object (its 'rows': one per method)")
    c.set_defaults(func=cmd_compare)

    from .generative.command import cmd_generate, cmd_train

    tr = sub.add_parser(
        "train",
        help="train the generative thermodynamic computer on the 8x8 digits (writes results/generative/)",
        description="Noise every training digit with the noising protocol, and fit per stage the couplings, "
        "per-unit J2/J4 and the class bank (ten bias vectors) by the probability of the time-reversed "
        "noising paths (Whitelam, PRL 2026): exact regularised least squares. Checkpoints the path sums "
        "after every epoch (an interrupted run resumes; another --stages, --ridge or --smooth reuses "
        "them), prints throughput at batch 1 and at the default batch side by side.",
    )
    tr.add_argument("dataset", choices=["digits"], help="the data set (scikit-learn's 8x8 digits)")
    tr.add_argument("--stages", type=_count, help="K piecewise-constant protocol stages (default 1)")
    tr.add_argument("--ridge", type=float, help="ridge on each stage's parameters (default 1e-4)")
    tr.add_argument("--smooth", type=float, help="penalty on neighbouring stages' differences (default 1e-3)")
    tr.add_argument(
        "--tie-couplings",
        action="store_const",
        const=True,
        help="one coupling matrix for all stages: only own terms and class biases are staged",
    )
    tr.add_argument("--epochs", type=_count, help="passes of fresh noising paths over the data (default 3)")
    tr.add_argument("--batch", type=_count, help="trajectories per matrix product (default 128)")
    tr.add_argument("--seed", type=_seed, help="seed of the noising paths (default 0)")
    tr.add_argument("--all-digits", action="store_true", help="train on all 1797 digits, not the train split")
    tr.add_argument("--limit", type=_count, help="only the first LIMIT digits (quick trials)")
    tr.add_argument("--out", type=Path, default=RESULTS / "generative", help="output directory")
    tr.add_argument("--json", action="store_true", help="print one JSON object (config, history, throughput)")
    tr.set_defaults(func=cmd_train)

    ge = sub.add_parser(
        "generate",
        help="generate digits with the trained computer: digital twin, ngspice circuit; judge them",
        description="Draw a class per sample, relax the units uncoupled, run the K trained stages with "
        "that class's biases, read the visible units (trained-branch current averaged over the last window, "
        "and the final voltages) as an Euler-Maruyama twin, as the behavioural circuit in ngspice and at "
        "transistor level; write samples.npz (arrays spice, twin, transistor: rows x 64, pixels 0-16, and "
        "*_class: the requested class) and metrics.json (image quality, class accuracy, SPICE-vs-twin MMD, "
        "heat, energy lines, ratio vs the DDPM at matched quality).",
    )
    ge.add_argument("--out", type=Path, default=RESULTS / "generative", help="output directory")
    ge.add_argument("--model", type=Path, help="trained model (default OUT/model.npz)")
    ge.add_argument("--n", type=_count, default=360, help="twin samples (default 360)")
    ge.add_argument("--spice-n", type=_count, help="ngspice samples (default: --n)")
    ge.add_argument(
        "--transistor-n", type=int, default=0, help="samples with five-transistor units (default 0: none)"
    )
    ge.add_argument("--relax", type=float, default=1.0, help="uncoupled relaxation, model time (default 1)")
    ge.add_argument(
        "--window", type=float, default=0.1, help="current read-out window, model time (default 0.1)"
    )
    ge.add_argument(
        "--class-bits",
        choices=["rng", "pbit"],
        default="rng",
        help="random bits of the classes (default rng)",
    )
    ge.add_argument("--workers", type=_count, help="parallel ngspice processes (default: all cores)")
    ge.add_argument("--seed", type=_seed, default=1, help="noise seed (default 1)")
    ge.add_argument("--json", action="store_true", help="print one JSON object of the metrics")
    ge.set_defaults(func=cmd_generate)

    b = sub.add_parser("bench", help="benchmarks that print ratios measured side by side")
    b.add_argument("name", choices=["engine", "noise", "sweep", "generate"], help="which benchmark")
    b.add_argument("--json", action="store_true", help="print one JSON object of the figures")
    b.add_argument("--repeats", type=_count, default=3, help="engine: alternated repeats (default 3)")
    b.add_argument("--t-stop", type=float, help="engine: simulated time of the benchmark run (s)")
    b.set_defaults(func=cmd_bench)

    la = sub.add_parser(
        "linalg",
        help="thermodynamic linear algebra: A⁻¹ or A⁻¹b sampled by a circuit; error vs time; mismatch floor",
    )
    la.add_argument("linalg_command", choices=["inverse", "solve", "mismatch"], help="what to compute")
    la.add_argument("--matrix", type=Path, help="A from a .npy file (d×d, symmetric positive definite)")
    la.add_argument("--random", type=int, nargs="+", metavar="D", help="random A of each size D (seeded)")
    la.add_argument("--cond", type=float, default=10.0, help="condition number of a random A (default 10)")
    la.add_argument("--matrix-seed", type=int, default=0, help="seed of the random A and b (default 0)")
    la.add_argument("--rhs", type=Path, help="solve: b from a .npy file (default: random, seeded)")
    la.add_argument("--circuit", choices=["rc", "rlc"], default="rc", help="circuit family (default rc)")
    la.add_argument("--samples", type=int, default=200_000, help="noise steps after burn-in (default 200000)")
    la.add_argument("--seed", type=int, default=1, help="noise seed (default 1)")
    la.add_argument("--workers", type=int, default=2, help="parallel ngspice runs (default 2)")
    la.add_argument("--out", type=Path, help="output directory (default results/linalg/<command>)")
    la.add_argument("--json", action="store_true", help="print one JSON object of the results")
    la.add_argument(
        "--sigma", type=float, nargs="+", default=[0.0, 0.001, 0.01, 0.05], help="mismatch: tolerances"
    )
    la.add_argument("--mismatch-seeds", type=int, default=3, help="mismatch: draws per tolerance (default 3)")
    for key, what in (
        ("mismatch-sigma", "relative tolerance of every R, C, L and coupling"),
        ("mismatch-seed", "seed of the tolerance draws"),
        ("parasitic-c-f", "capacitance from each node to ground (F)"),
        ("noise-bandwidth-hz", "one-pole corner of the injected noise (Hz)"),
        ("actual-temperature-k", "noise placed at this temperature, theory at the nominal one (K)"),
    ):
        la.add_argument(
            f"--{key}", type=int if key == "mismatch-seed" else float, help=f"non-ideality: {what}"
        )
    la.set_defaults(func=cmd_linalg)
    for action in sub._choices_actions:  # each subcommand's --help opens with its one-line summary
        sub.choices[action.dest].description = sub.choices[action.dest].description or action.help
    return p


def cmd_compare(args) -> int:
    from . import api
    from .compare.digits import json_rows, markdown

    result = api.compare(args.out, seed=args.seed, log=sys.stderr)
    if args.json:
        print(json.dumps({**result, "rows": json_rows(result)}, default=str))
    else:
        print(markdown(result))
    return 0


def cmd_run(args) -> int:
    from . import api
    from .runs.run import summary_table

    result = api.run(
        args.target,
        seed=args.seed,
        out=args.out or "auto",
        probes=args.probe,
        plots=not args.no_plots,
        quiet=args.json,
        keep_run_dir=args.keep_run_dir,
    )
    print(json.dumps(result.metrics, default=str) if args.json else summary_table(result.metrics))
    return 0 if result.passed else 1


def cmd_netlist(args) -> int:
    from . import api

    print(api.netlist(args.spec), end="")
    return 0


def cmd_netlists(args) -> int:
    from . import api

    stale = api.netlists(check=args.check)
    if args.check:
        if stale:
            print("stale netlists (run `thermosim netlists`): " + ", ".join(str(s) for s in stale))
            return 1
        print("netlists are up to date")
        return 0
    print(f"wrote {len(stale)} netlist(s)" + (": " + ", ".join(s.name for s in stale) if stale else ""))
    return 0


def cmd_noise(args) -> int:
    from . import api

    seed, n_lines, files = api.noise_files(args.spec, seed=args.seed, out=args.out)
    print(f"wrote {', '.join(str(f) for f in files)} ({n_lines:,} lines each, seed {seed})")
    return 0


def cmd_sweep(args) -> int:
    from . import api

    table = api.sweep(
        args.sweep,
        out=args.out or "auto",
        workers=args.workers,
        dask=args.dask,
        scheduler=args.scheduler,
        resume=args.resume,
    )
    return 1 if table.attrs["failed"] else 0


def cmd_families(args) -> int:
    from . import api
    from .circuits.describe import summary

    for name in api.families():
        print(f"{name:14s} {summary(name)}")
    return 0


def cmd_describe(args) -> int:
    from . import api

    if args.all == (args.family is not None):
        raise ValueError("describe takes a family name or --all (see `thermosim families`)")
    print(api.reference() if args.all else api.describe(args.family), end="")
    return 0


def cmd_plot(args) -> int:
    from . import api

    files = api.replot(args.sweep_dir, x=args.x, y=args.y)
    print(f"wrote {', '.join(str(args.sweep_dir / f) for f in files)}")
    return 0


def cmd_demo(args) -> int:
    from . import api

    return api.demo(args.out)


def cmd_bench(args) -> int:
    from .bench import bench_engine, bench_noise

    if args.name == "engine":
        figures = bench_engine(repeats=args.repeats, t_stop_s=args.t_stop, verbose=not args.json)
    elif args.name == "noise":
        figures = bench_noise(verbose=not args.json)
    elif args.name == "generate":
        from .bench import bench_generate

        figures = bench_generate(RESULTS / "generative" / "model.npz", verbose=not args.json)
    else:
        from .bench import bench_sweep

        figures = bench_sweep(verbose=not args.json)
    if args.json:
        print(json.dumps(figures))
    return 0


def cmd_linalg(args) -> int:
    from . import api
    from .linalg.command import NONIDEAL_KEYS

    keys = ("matrix", "random", "cond", "matrix_seed", "rhs", "circuit", "samples", "seed", "workers", "out")
    summary = api.linalg(
        args.linalg_command,
        **{k: getattr(args, k) for k in keys},
        sigma=tuple(args.sigma),
        mismatch_seeds=args.mismatch_seeds,
        nonideal={k: getattr(args, k) for k in NONIDEAL_KEYS},
    )
    if args.json:
        print(json.dumps(summary, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
